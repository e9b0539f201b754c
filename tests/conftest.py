"""Shared test configuration: paths to the optional shared Databento samples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Return ../shared/data, or skip when it is absent (the project never copies it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def validate_every_constructed_event() -> Iterator[None]:
    """Build every packet, equity trade, dark inference, dark level and candle through pydantic validation too,
    and compare (production skips it for speed)."""
    import operators.construct as construct

    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = True
    yield
    construct.VALIDATE_EVENTS = previous
