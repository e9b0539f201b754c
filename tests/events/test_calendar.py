"""The session calendar: New York dates, the regular session's open and close, across daylight saving."""

from __future__ import annotations

from datetime import date

import pytest

from events.calendar import BUCKET_NS, SESSION_BUCKETS, close_ns, open_ns, session_date
from events.units import NS_PER_S


@pytest.mark.parametrize(
    ("day", "open_utc_hour"),
    [(date(2026, 3, 6), 14), (date(2026, 3, 9), 13), (date(2026, 11, 2), 14)],
    ids=["winter", "summer-after-dst", "winter-after-dst"],
)
def test_open_and_close_follow_new_york_time(day: date, open_utc_hour: int) -> None:
    opened = open_ns(day)
    assert (opened // NS_PER_S) % 86_400 == open_utc_hour * 3_600 + 30 * 60
    assert close_ns(day) - opened == SESSION_BUCKETS * BUCKET_NS == int(6.5 * 3_600) * NS_PER_S
    assert session_date(opened) == day
    assert session_date(close_ns(day)) == day


def test_session_date_is_the_new_york_date() -> None:
    just_before_midnight_ny = open_ns(date(2026, 3, 2)) + (14 * 3_600 + 29 * 60) * NS_PER_S  # 23:59 NY
    assert session_date(just_before_midnight_ny) == date(2026, 3, 2)
    assert session_date(just_before_midnight_ny + 60 * NS_PER_S) == date(2026, 3, 3)
