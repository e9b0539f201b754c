"""What the classifiers share: the directional read and its quote-quality bar, the New York calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from events.models import Direction
from operators.classifiers import POOR_QUOTES_COVERAGE, days_to_expiry, direction_for, session_date
from tests.factories import occ, packet, ts


@pytest.mark.parametrize(
    ("coverage", "direction"),
    [
        pytest.param(1.0, "bullish", id="full"),
        pytest.param(POOR_QUOTES_COVERAGE, "bullish", id="at-threshold"),
        pytest.param(0.49, "neutral", id="just-below"),
        pytest.param(0.0, "neutral", id="none"),
    ],
)
def test_poor_nbbo_coverage_withholds_direction(coverage: float, direction: Direction) -> None:
    assert direction_for(packet(nbbo_coverage=coverage)) == direction


@pytest.mark.parametrize(
    ("ts_ms", "expected"),
    [
        pytest.param(0, date(2026, 3, 2), id="open"),
        pytest.param(-14.5 * 3_600_000, date(2026, 3, 1), id="utc-midnight-is-ny-evening-before"),
        pytest.param(14.5 * 3_600_000, date(2026, 3, 2), id="ny-23h59"),
    ],
)
def test_session_date_is_new_york(ts_ms: float, expected: date) -> None:
    assert session_date(ts(ts_ms) - (1 if ts_ms > 0 else 0)) == expected


@pytest.mark.parametrize("days", [0, 1, 60])
def test_days_to_expiry_counts_from_the_new_york_date(days: int) -> None:
    expiry = session_date(ts(0)) + timedelta(days=days)
    assert days_to_expiry(packet(occ("580", expiry=expiry.isoformat()), at_ms=0)) == days
