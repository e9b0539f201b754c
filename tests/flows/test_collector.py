"""The collector's pace in flowtape's processes (`FLOWTAPE_GC_THRESHOLD`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connectors.settings import Settings
from flows.collector import DEFAULT_THRESHOLD, OLDER_THRESHOLDS, tune_collector


@pytest.fixture(autouse=True)
def _restore_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_a_threshold_sets_the_young_generation_and_the_older_ones() -> None:
    tune_collector(12_345)
    assert gc.get_threshold() == (12_345, *OLDER_THRESHOLDS)


def test_zero_leaves_pythons_thresholds() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector(0)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        tune_collector(-1)


def test_the_setting_defaults_to_the_measured_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWTAPE_GC_THRESHOLD", raising=False)
    assert Settings().gc_threshold == DEFAULT_THRESHOLD
    monkeypatch.setenv("FLOWTAPE_GC_THRESHOLD", "0")
    assert Settings().gc_threshold == 0
