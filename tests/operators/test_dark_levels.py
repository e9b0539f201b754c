"""Dark levels (BEHAVIOR section 8): session price levels by off-exchange notional, published in bounded rounds."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import DarkLevel, EquityTrade
from events.units import price_e9
from operators.dark_levels import DarkLevels
from tests.factories import equity_trade

CONFIG = EquitiesConfig()
SESSION = date(2026, 3, 2)


def _t(at_ms: float, price: str, size: int = 1_000, **overrides: Any) -> EquityTrade:
    return equity_trade(at_ms, price, size, placement="MID", **overrides)


def _run(trades: list[EquityTrade], config: EquitiesConfig = CONFIG, *, flush: bool = True) -> list[DarkLevel]:
    levels = DarkLevels(config)
    out: list[DarkLevel] = []
    for t in trades:
        out.extend(levels.on_trade(t))
    if flush:
        out.extend(levels.flush())
    return out


@pytest.mark.parametrize(
    ("tick_cents", "price", "level"),
    [
        pytest.param(1, "100.00", "100.00", id="cent"),
        pytest.param(1, "100.004", "100.00", id="sub-penny-down"),
        pytest.param(1, "100.005", "100.01", id="sub-penny-half-up"),
        pytest.param(5, "100.02", "100.00", id="nickel-down"),
        pytest.param(5, "100.025", "100.05", id="nickel-half-up"),
        pytest.param(10, "0.01", "0.10", id="never-below-one-tick"),
    ],
)
def test_level_granularity(tick_cents: int, price: str, level: str) -> None:
    levels = DarkLevels(EquitiesConfig(dark_level_tick_cents=tick_cents))
    assert levels.level_of(price_e9(price)) == price_e9(level)


def test_first_print_publishes_its_level_at_once() -> None:
    trade = _t(0, "100.00")
    (level,) = _run([trade])
    assert level.id == derived_event_id("dark_level", ("SPY", "2026-03-02", str(price_e9("100"))))
    assert (level.revision, level.rank, level.session_date, level.price_e9) == (0, 1, SESSION, price_e9("100"))
    assert (level.size_shares, level.notional_cents, level.print_count) == (1_000, 10_000_000, 1)
    assert (level.session_notional_cents, level.notional_share) == (10_000_000, 1.0)
    assert (level.ts_first, level.ts_last, level.ts_event) == (trade.ts_event,) * 3
    assert level.tick_cents == 1


def test_levels_rank_by_notional_and_publish_once_per_period() -> None:
    tape = [
        _t(0, "100.00"),  # round at 0 ms: level 100.00, rank 1
        _t(100, "101.00", 2_000),  # same period: held
        _t(200, "100.00", 500),  # same period: held
        _t(1_000, "99.00", 100),  # next period: a round with every change
    ]
    out = _run(tape, flush=False)
    assert [(lvl.price_e9, lvl.rank, lvl.revision, lvl.size_shares) for lvl in out] == [
        (price_e9("100"), 1, 0, 1_000),
        (price_e9("101"), 1, 0, 2_000),  # $202k
        (price_e9("100"), 2, 1, 1_500),  # $150k
        (price_e9("99"), 3, 0, 100),
    ]
    assert [lvl.ts_event for lvl in out[1:]] == [tape[-1].ts_event] * 3
    total = 10_000_000 + 20_200_000 + 5_000_000 + 990_000
    assert all(lvl.session_notional_cents == total for lvl in out[1:])
    assert out[1].notional_share == pytest.approx(20_200_000 / total)


def test_unchanged_levels_with_unchanged_ranks_are_not_republished() -> None:
    tape = [_t(0, "100.00", 5_000), _t(1, "99.00", 100), _t(1_000, "99.00", 100), _t(2_000, "99.00", 100)]
    out = _run(tape)
    assert [(lvl.price_e9, lvl.revision) for lvl in out] == [
        (price_e9("100"), 0),
        (price_e9("99"), 0),
        (price_e9("99"), 1),
    ]


def test_a_level_leaving_the_top_is_published_with_no_rank() -> None:
    config = EquitiesConfig(dark_level_top_n=2)
    tape = [_t(0, "100.00", 300), _t(1_000, "101.00", 200), _t(2_000, "102.00", 1_000), _t(2_001, "103.00", 1)]
    out = _run(tape, config)
    assert [(lvl.price_e9, lvl.rank, lvl.revision) for lvl in out] == [
        (price_e9("100"), 1, 0),
        (price_e9("101"), 2, 0),
        (price_e9("102"), 1, 0),
        (price_e9("100"), 2, 1),
        (price_e9("101"), None, 1),  # fell out of the top 2
    ]  # 103.00 never made the top: never published, not even by the flush


def test_emission_is_bounded_per_period() -> None:
    config = EquitiesConfig(dark_level_top_n=3)
    # 200 prints over 100 distinct levels within one 1-second period, then one print in the next period.
    tape = [_t(i * 4, f"{100 + (i % 100) / 100:.2f}", 100 + i) for i in range(200)]
    tape.append(_t(1_000, "100.00", 100))
    out = _run(tape, config, flush=False)
    assert len(out) <= 1 + 2 * config.dark_level_top_n


def test_ties_rank_the_lower_price_first() -> None:
    out = _run([_t(0, "101.00", 1_000), _t(1, "100.00", 1_010)])  # $101,000 each
    final = {lvl.price_e9: lvl.rank for lvl in out}
    assert final == {price_e9("100"): 1, price_e9("101"): 2}


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"off_exchange": False}, id="lit"),
        pytest.param({"size_eligible": False, "excluded_reasons": ("odd_lot",)}, id="ineligible"),
    ],
)
def test_only_off_exchange_eligible_prints_count(overrides: dict[str, Any]) -> None:
    assert _run([_t(0, "100.00", **overrides)]) == []


def test_a_new_session_starts_afresh_and_a_previous_one_is_late() -> None:
    day_ms = 86_400_000
    levels = DarkLevels(CONFIG)
    first = levels.on_trade(_t(0, "100.00"))
    levels.on_trade(_t(10, "100.00"))  # same period: held for the next round
    next_day = levels.on_trade(_t(day_ms, "100.00", 10))
    assert [(lvl.session_date, lvl.revision, lvl.size_shares) for lvl in first] == [(SESSION, 0, 1_000)]
    # The old session's pending change is published first, then the new session's level.
    assert [(lvl.session_date, lvl.revision, lvl.size_shares) for lvl in next_day] == [
        (SESSION, 1, 2_000),
        (date(2026, 3, 3), 0, 10),
    ]
    assert next_day[0].id != next_day[1].id
    assert levels.on_trade(_t(20, "100.00")) == []
    assert levels.late_prints == 1


def test_same_input_same_events() -> None:
    tape = [_t(i * 300, f"{100 + i % 7:.2f}", 100 * (i + 1)) for i in range(30)]
    assert _run(tape) == _run(tape)
