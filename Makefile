# flowtape: the README's two commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The compiled kernel: a change to its sources rebuilds it (pip install -e runs cargo through setuptools-rust).
KERNEL_SOURCES := operators/kernel/Cargo.toml operators/kernel/Cargo.lock $(wildcard operators/kernel/src/*.rs)

.PHONY: install demo test lint typecheck unit integration services-up services-down bench clean

$(STAMP): pyproject.toml $(KERNEL_SOURCES)
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 12), "flowtape needs Python 3.11 or 3.12 (bytewax wheels), found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/flowtape demo

test: install services-up lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -m 'not integration'

integration: install services-up
	$(BIN)/python -m pytest -m integration

services-up: install
	$(BIN)/flowtape services up

services-down: install
	$(BIN)/flowtape services down

bench: install
	$(BIN)/flowtape bench

clean:
	rm -rf $(VENV) .flowtape .mypy_cache .ruff_cache .pytest_cache .hypothesis
