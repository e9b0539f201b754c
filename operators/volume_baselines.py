"""Session bucketing and historical volume baselines (BEHAVIOR section 4), from 5-minute volume rows.

Pure: the daily job reads rows from ClickHouse and writes the result to Redis; this module only computes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from events.baselines import VolumeBaseline, volume_baseline_id
from events.calendar import BUCKET_MINUTES, NEW_YORK, SESSION_BUCKETS, SESSION_OPEN, close_ns, open_ns
from events.units import NS_PER_S


class VolumeRow(NamedTuple):
    """Volume traded in one 5-minute slot (slot start in ns, aligned to 5 minutes UTC): contracts of an option,
    shares of a stock (whose symbol is its own underlying)."""

    symbol: str
    underlying: str
    slot_start_ns: int
    volume: int


def session_bucket(ts_ns: int) -> tuple[date, int] | None:
    """Return (session date, bucket index 0-77) for a time in the regular session, else None."""
    local = datetime.fromtimestamp(ts_ns / NS_PER_S, tz=UTC).astimezone(NEW_YORK)
    if local.weekday() >= 5:
        return None
    minutes = (local.hour * 60 + local.minute) - (SESSION_OPEN.hour * 60 + SESSION_OPEN.minute)
    bucket = minutes // BUCKET_MINUTES
    if not 0 <= bucket < SESSION_BUCKETS:
        return None
    return local.date(), bucket


class SessionClock:
    """`session_bucket` with a one-interval cache: the answer is constant within a bucket (in session) or a
    minute (outside it, where session bounds, midnight and DST changes all fall on minute boundaries), so
    a stream of event times in order costs one timezone conversion per interval, not per event.
    """

    __slots__ = ("_answer", "_hi", "_lo")

    def __init__(self) -> None:
        self._lo = 0
        self._hi = 0
        self._answer: tuple[date, int | None] = (date.min, None)

    def locate(self, ts_ns: int) -> tuple[date, int | None]:
        """Return (New York date, session bucket or None outside the regular session) of a time."""
        if self._lo <= ts_ns < self._hi:
            return self._answer
        self._lo, self._hi, day, bucket = session_interval(ts_ns)
        self._answer = (day, bucket)
        return self._answer


def session_interval(ts_ns: int) -> tuple[int, int, date, int | None]:
    """Return [lo, hi) in ns around a time over which `SessionClock.locate` gives one answer, and that answer
    (New York date, session bucket or None): the bucket in session, else the minute."""
    local = datetime.fromtimestamp(ts_ns // NS_PER_S, tz=UTC).astimezone(NEW_YORK)
    where = session_bucket(ts_ns)
    minute_ns = 60 * NS_PER_S
    if where is None:
        lo = ts_ns - ts_ns % minute_ns
        return lo, lo + minute_ns, local.date(), None
    day, bucket = where
    lo = open_ns(day) + bucket * BUCKET_MINUTES * minute_ns
    return lo, lo + BUCKET_MINUTES * minute_ns, day, bucket


def window_start(as_of: date, calendar_days: int) -> date:
    """Return the first calendar day the job must read to cover the window."""
    return as_of - timedelta(days=calendar_days)


def build_baselines(rows: Iterable[VolumeRow], as_of: date, sessions: int) -> list[VolumeBaseline]:
    """Average volume per bucket and per session over the last `sessions` sessions up to `as_of`, per contract
    and per underlying (option rows: contracts).

    A session is a day on which anything traded (the tape is the calendar: no holiday table to drift);
    a contract with no prints in a session counts 0 for it. Output is sorted by (scope, subject).
    """
    totals, days = _window_totals(rows, as_of, sessions)
    per_underlying: dict[str, list[int]] = defaultdict(lambda: [0] * SESSION_BUCKETS)
    out: list[VolumeBaseline] = []
    for (symbol, underlying), by_bucket in totals:
        under = per_underlying[underlying]
        for i, v in enumerate(by_bucket):
            under[i] += v
        out.append(_baseline("contract", symbol, underlying, by_bucket, len(days), days[-1]))
    for underlying, by_bucket in sorted(per_underlying.items()):
        out.append(_baseline("underlying", underlying, underlying, by_bucket, len(days), days[-1]))
    return sorted(out, key=lambda b: (b.scope, b.subject))


def build_equity_baselines(rows: Iterable[VolumeRow], as_of: date, sessions: int) -> list[VolumeBaseline]:
    """Average regular-session share volume per bucket and per session of each underlying (equity rows: symbol
    and underlying are the stock, volume in shares), scope `equity`: its `day_volume_mean` is the average daily
    volume that scales dark-inference confidence. Sessions as in `build_baselines`, from the equity tape.
    """
    totals, days = _window_totals(rows, as_of, sessions)
    return [_baseline("equity", symbol, symbol, by_bucket, len(days), days[-1]) for (symbol, _), by_bucket in totals]


def _window_totals(
    rows: Iterable[VolumeRow], as_of: date, sessions: int
) -> tuple[list[tuple[tuple[str, str], list[int]]], list[date]]:
    """Sum volume per (symbol, underlying) and session bucket over the last `sessions` sessions up to `as_of`.

    Returns the subjects that traded in the window, sorted, each with its bucket totals, and the window's days.
    """
    per_subject: dict[tuple[str, str], dict[date, list[int]]] = defaultdict(dict)
    seen_days: set[date] = set()
    for row in rows:
        where = session_bucket(row.slot_start_ns)
        if where is None or where[0] > as_of:
            continue
        day, bucket = where
        seen_days.add(day)
        buckets = per_subject[(row.symbol, row.underlying)].setdefault(day, [0] * SESSION_BUCKETS)
        buckets[bucket] += row.volume
    days = sorted(seen_days)[-sessions:]
    window = set(days)
    out: list[tuple[tuple[str, str], list[int]]] = []
    for subject, by_day in sorted(per_subject.items()):
        totals = [0] * SESSION_BUCKETS
        for day, buckets in by_day.items():
            if day in window:
                for i, v in enumerate(buckets):
                    totals[i] += v
        if any(totals):
            out.append((subject, totals))
    return out, days


def _baseline(scope: str, key: str, underlying: str, totals: list[int], sessions: int, as_of: date) -> VolumeBaseline:
    return VolumeBaseline(
        id=volume_baseline_id(scope, key, as_of, sessions),
        ts_event=close_ns(as_of),
        scope=scope,
        subject=key,
        underlying=underlying,
        as_of=as_of,
        sessions=sessions,
        day_volume_mean=sum(totals) / sessions,
        bucket_volume_mean=tuple(v / sessions for v in totals),
    )
