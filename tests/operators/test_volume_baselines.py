"""Session buckets and historical volume baselines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.baselines import SESSION_BUCKETS
from events.units import NS_PER_S
from operators.volume_baselines import (
    NEW_YORK,
    SessionClock,
    VolumeRow,
    build_baselines,
    build_equity_baselines,
    session_bucket,
)


def ny(text: str) -> int:
    """Return ns since the epoch for a New York wall-clock time 'YYYY-MM-DD HH:MM:SS'."""
    return int(datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).timestamp()) * NS_PER_S


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param("2026-03-02 09:29:59", None, id="before-open"),
        pytest.param("2026-03-02 09:30:00", (date(2026, 3, 2), 0), id="open"),
        pytest.param("2026-03-02 09:34:59", (date(2026, 3, 2), 0), id="end-of-first-bucket"),
        pytest.param("2026-03-02 09:35:00", (date(2026, 3, 2), 1), id="second-bucket"),
        pytest.param("2026-03-02 15:59:59", (date(2026, 3, 2), 77), id="last-bucket"),
        pytest.param("2026-03-02 16:00:00", None, id="close"),
        pytest.param("2026-03-07 10:00:00", None, id="saturday"),
        pytest.param("2026-03-09 09:30:00", (date(2026, 3, 9), 0), id="open-after-dst-change"),
        pytest.param("2026-11-02 09:30:00", (date(2026, 11, 2), 0), id="open-after-dst-ends"),
    ],
)
def test_session_bucket(when: str, expected: tuple[date, int] | None) -> None:
    assert session_bucket(ny(when)) == expected


CALL = "SPY   260320C00580000"
PUT = "SPY   260320P00570000"


def test_means_count_sessions_without_prints_as_zero() -> None:
    rows = [
        VolumeRow(CALL, "SPY", ny("2026-03-02 09:30:00"), 100),
        VolumeRow(CALL, "SPY", ny("2026-03-02 09:35:00"), 50),
        VolumeRow(PUT, "SPY", ny("2026-03-03 09:30:00"), 40),
    ]
    baselines = build_baselines(rows, as_of=date(2026, 3, 3), sessions=30)
    by_subject = {(b.scope, b.subject): b for b in baselines}
    call = by_subject[("contract", CALL)]
    assert call.sessions == 2
    assert call.day_volume_mean == 75.0
    assert call.bucket_volume_mean[:2] == (50.0, 25.0)
    assert len(call.bucket_volume_mean) == SESSION_BUCKETS
    spy = by_subject[("underlying", "SPY")]
    assert spy.day_volume_mean == 95.0
    assert spy.bucket_volume_mean[0] == 70.0
    assert [b.scope for b in baselines] == ["contract", "contract", "underlying"]


def test_window_keeps_the_last_sessions_up_to_as_of() -> None:
    rows = [VolumeRow(CALL, "SPY", ny(f"2026-03-0{d} 10:00:00"), d) for d in (2, 3, 4, 5, 6)]
    baselines = build_baselines(rows, as_of=date(2026, 3, 5), sessions=2)
    call = next(b for b in baselines if b.scope == "contract")
    assert call.as_of == date(2026, 3, 5)
    assert call.sessions == 2
    assert call.day_volume_mean == (4 + 5) / 2


def test_no_rows_no_baselines() -> None:
    assert build_baselines([], as_of=date(2026, 3, 5), sessions=30) == []


def test_ids_are_deterministic() -> None:
    rows = [VolumeRow(CALL, "SPY", ny("2026-03-02 10:00:00"), 5)]
    first = build_baselines(rows, date(2026, 3, 2), 30)
    assert [b.id for b in first] == [b.id for b in build_baselines(rows, date(2026, 3, 2), 30)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([CALL, PUT]), st.integers(0, 4), st.integers(0, 77), st.integers(1, 1000)),
        max_size=60,
    )
)
def test_bucket_means_times_sessions_equal_the_total(draws: list[tuple[str, int, int, int]]) -> None:
    days = [date(2026, 3, d) for d in (2, 3, 4, 5, 6)]
    rows = [
        VolumeRow(symbol, "SPY", ny(f"{days[d]} 09:30:00") + bucket * 300 * NS_PER_S, size)
        for symbol, d, bucket, size in draws
    ]
    baselines = build_baselines(rows, as_of=days[-1], sessions=30)
    total = sum(size for *_, size in draws)
    for baseline in baselines:
        assert sum(baseline.bucket_volume_mean) * baseline.sessions == pytest.approx(
            baseline.day_volume_mean * baseline.sessions
        )
    underlying = [b for b in baselines if b.scope == "underlying"]
    if draws:
        assert underlying[0].day_volume_mean * underlying[0].sessions == pytest.approx(total)
    else:
        assert baselines == []


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1_767_225_600, max_value=1_798_761_600),
    st.lists(st.integers(min_value=-400, max_value=900), min_size=1, max_size=60),
)
def test_session_clock_agrees_with_session_bucket(start: int, steps: list[int]) -> None:
    """The cached clock answers like the direct conversion for times walking back and forth (2026, DSTs)."""
    clock = SessionClock()
    second = start
    for step in steps:
        second += step
        ts = second * NS_PER_S + 123
        where = session_bucket(ts)
        day = datetime.fromtimestamp(second, tz=UTC).astimezone(NEW_YORK).date()
        assert clock.locate(ts) == (day, None if where is None else where[1])
        if where is not None:
            assert where[0] == day


def test_session_clock_across_a_dst_change_and_the_open() -> None:
    clock = SessionClock()
    assert clock.locate(ny("2026-03-09 09:29:59")) == (date(2026, 3, 9), None)
    assert clock.locate(ny("2026-03-09 09:30:00")) == (date(2026, 3, 9), 0)
    assert clock.locate(ny("2026-03-09 09:34:59")) == (date(2026, 3, 9), 0)
    assert clock.locate(ny("2026-03-09 09:35:00")) == (date(2026, 3, 9), 1)
    assert clock.locate(ny("2026-03-09 15:59:59")) == (date(2026, 3, 9), 77)
    assert clock.locate(ny("2026-03-09 16:00:00")) == (date(2026, 3, 9), None)


def test_equity_baselines_are_each_stocks_regular_session_share_volume() -> None:
    rows = [
        VolumeRow("SPY", "SPY", ny("2026-03-02 09:30:00"), 1_000_000),
        VolumeRow("SPY", "SPY", ny("2026-03-02 16:30:00"), 9_999_999),  # after the close: not in the ADV
        VolumeRow("SPY", "SPY", ny("2026-03-03 15:55:00"), 3_000_000),
        VolumeRow("QQQ", "QQQ", ny("2026-03-03 10:00:00"), 500_000),
    ]
    baselines = build_equity_baselines(rows, as_of=date(2026, 3, 3), sessions=30)
    assert [(b.scope, b.subject, b.underlying, b.sessions) for b in baselines] == [
        ("equity", "QQQ", "QQQ", 2),
        ("equity", "SPY", "SPY", 2),
    ], "QQQ's quiet session counts 0"
    qqq, spy = baselines
    assert (qqq.day_volume_mean, spy.day_volume_mean) == (250_000.0, 2_000_000.0)
    assert (spy.bucket_volume_mean[0], spy.bucket_volume_mean[77]) == (500_000.0, 1_500_000.0)
    assert build_equity_baselines([], as_of=date(2026, 3, 3), sessions=30) == []
