"""Event-time candles (BEHAVIOR section 9): OHLC from last-sale-eligible prints, volume from all, watermark
closing with allowed lateness, late prints counted, order independence within the lateness."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import Candle, EquityTrade
from events.units import NS_PER_MS, NS_PER_S, price_e9
from operators.candles import CandleBuilder
from tests.factories import T0, equity_trade, ts

CONFIG = EquitiesConfig()
S = NS_PER_S


def _t(at_ms: float, price: str, size: int = 100, **overrides: Any) -> EquityTrade:
    return equity_trade(at_ms, price, size, placement="A", **overrides)


def _run(trades: list[EquityTrade], config: EquitiesConfig = CONFIG, *, flush: bool = True) -> list[Candle]:
    builder = CandleBuilder(config)
    out: list[Candle] = []
    for t in trades:
        out.extend(builder.on_trade(t))
    if flush:
        out.extend(builder.flush())
    return out


def _by(candles: list[Candle], interval: str) -> list[Candle]:
    return [c for c in candles if c.interval == interval]


def test_ohlc_from_last_sale_eligible_prints_volume_from_all() -> None:
    tape = [
        _t(100, "10.00"),
        _t(200, "10.50", 30, last_sale_eligible=False, size_eligible=False, excluded_reasons=("odd_lot",)),
        _t(300, "9.00", 500, last_sale_eligible=False, excluded_reasons=("extended_hours",)),
        _t(400, "10.20", off_exchange=False),
        _t(500, "9.90"),
        _t(600, "10.05", 200),
        _t(700, "11.00", 100, last_sale_eligible=False, size_eligible=False, excluded_reasons=("average_price",)),
    ]
    (candle,) = _by(_run(tape), "1s")
    assert candle.id == derived_event_id("candle", ("SPY", "1s", str(T0)))
    assert (candle.window_start_ns, candle.window_end_ns, candle.ts_event) == (T0, T0 + S, ts(700))
    assert (candle.open_e9, candle.high_e9, candle.low_e9, candle.close_e9) == (
        price_e9("10.00"),
        price_e9("10.20"),
        price_e9("9.90"),
        price_e9("10.05"),
    )
    assert (candle.volume_shares, candle.trade_count, candle.last_sale_trades) == (1_130, 7, 4)
    assert (candle.off_exchange_volume_shares, candle.off_exchange_trades) == (1_030, 6)
    assert candle.notional_cents == 1_093_500  # sum of price x size: $10,935.00
    assert (candle.late_prints, candle.late_volume_shares) == (0, 0)


def test_a_window_without_last_sale_prints_has_volume_but_no_prices() -> None:
    (candle,) = _by(_run([_t(0, "10", 10, last_sale_eligible=False, excluded_reasons=("odd_lot",))]), "1s")
    assert (candle.open_e9, candle.high_e9, candle.low_e9, candle.close_e9) == (None, None, None, None)
    assert (candle.volume_shares, candle.last_sale_trades) == (10, 0)


def test_windows_close_when_the_watermark_passes_their_end_plus_lateness() -> None:
    builder = CandleBuilder(CONFIG)
    assert builder.on_trade(_t(500, "10")) == []
    assert builder.on_trade(_t(2_999, "10")) == []  # watermark 0.999 s: [0, 1 s) still open
    closed = builder.on_trade(_t(3_000, "10"))  # watermark 1 s: closes [0, 1 s)
    assert [(c.interval, c.window_start_ns) for c in closed] == [("1s", T0)]
    assert builder.on_trade(_t(3_500, "10")) == []
    closed = builder.on_trade(_t(7_000, "10"))  # watermark 5 s: [1, 2), [2, 3) and [0, 5 s)
    assert [(c.interval, c.window_start_ns) for c in closed] == [("1s", T0 + 2 * S), ("1s", T0 + 3 * S), ("5s", T0)]
    assert _by(closed, "5s")[0].trade_count == 4


def test_no_candle_for_a_window_without_prints() -> None:
    out = _run([_t(0, "10"), _t(10_000, "11")])
    assert [c.window_start_ns for c in _by(out, "1s")] == [T0, T0 + 10 * S]


def test_late_prints_are_counted_in_the_next_candle_and_still_land_in_longer_windows() -> None:
    builder = CandleBuilder(CONFIG)
    out: list[Candle] = []
    for t in [_t(100, "10"), _t(3_500, "10"), _t(200, "12", 70), _t(4_100, "10")]:
        out.extend(builder.on_trade(t))
    out.extend(builder.flush())
    first, second, third = _by(out, "1s")
    assert (first.window_start_ns, first.volume_shares, first.high_e9) == (T0, 100, price_e9("10"))
    assert (second.late_prints, second.late_volume_shares) == (1, 70)  # the next 1 s candle reports it
    assert (third.late_prints, third.late_volume_shares) == (0, 0)
    (five,) = _by(out, "5s")
    assert (five.volume_shares, five.trade_count, five.high_e9) == (370, 4, price_e9("12"))
    assert builder.late_prints == {"1s": 1, "5s": 0, "1m": 0, "5m": 0, "15m": 0}


def test_a_print_late_for_every_interval() -> None:
    builder = CandleBuilder(EquitiesConfig(candle_intervals="1s,5s"))
    builder.on_trade(_t(100, "10"))
    builder.on_trade(_t(8_000, "10"))  # watermark 6 s: closes [0, 5 s)
    assert builder.on_trade(_t(4_000, "10", 5)) == []
    assert builder.late_prints == {"1s": 1, "5s": 1}
    last_1s, last_5s = builder.flush()
    assert (last_1s.late_prints, last_5s.late_prints, last_5s.late_volume_shares) == (1, 1, 5)


def test_zero_lateness_closes_at_the_window_end() -> None:
    builder = CandleBuilder(EquitiesConfig(candle_late_ms=0, candle_intervals="1s"))
    assert builder.on_trade(_t(999, "10")) == []
    assert [c.window_start_ns for c in builder.on_trade(_t(1_000, "10"))] == [T0]


def test_open_and_close_ties_break_on_sequence_then_print_id() -> None:
    a = _t(100, "10.00", sequence=7)
    b = _t(100, "11.00", sequence=8)
    for tape in ([a, b], [b, a]):
        (candle,) = _by(_run(tape), "1s")
        assert (candle.open_e9, candle.close_e9) == (price_e9("10.00"), price_e9("11.00"))


def test_longer_intervals_aggregate_the_shorter_ones() -> None:
    tape = [_t(i * 1_000, f"{10 + (i * 7 % 13) / 100:.2f}", 10 * (i + 1)) for i in range(130)]
    out = _run(tape)
    for longer in ("5s", "1m"):
        for candle in _by(out, longer):
            inside = [c for c in _by(out, "1s") if candle.window_start_ns <= c.window_start_ns < candle.window_end_ns]
            assert candle.volume_shares == sum(c.volume_shares for c in inside)
            assert candle.trade_count == sum(c.trade_count for c in inside)
            assert candle.high_e9 == max(c.high_e9 for c in inside if c.high_e9 is not None)
            assert candle.low_e9 == min(c.low_e9 for c in inside if c.low_e9 is not None)
            assert candle.open_e9 == inside[0].open_e9
            assert candle.close_e9 == inside[-1].close_e9
    assert [c.window_start_ns for c in _by(out, "1m")] == [T0, T0 + 60 * S, T0 + 120 * S]


def test_output_order_shortest_interval_first_then_start() -> None:
    out = _run([_t(0, "10"), _t(61_000, "10")])  # the second print's watermark (59 s) closes [0, 1 s) and [0, 5 s)
    keys = [(c.interval, c.window_start_ns) for c in out]
    assert keys == [
        ("1s", T0),
        ("5s", T0),
        ("1s", T0 + 61 * S),
        ("5s", T0 + 60 * S),
        ("1m", T0),
        ("1m", T0 + 60 * S),
        ("5m", T0),
        ("15m", T0),
    ]


def test_same_input_same_ids() -> None:
    tape = [_t(i * 700, "10.01", 100 + i) for i in range(40)]
    assert _run(tape) == _run(tape)


# ----------------------------------------------------------------------------------------- property

_print = st.tuples(
    st.integers(0, 20_000),  # ms after T0
    st.integers(9_990, 10_010),  # price in cents
    st.integers(1, 5_000),  # shares
    st.booleans(),  # last-sale eligible
    st.booleans(),  # off-exchange
    st.integers(0, CONFIG.candle_late_ms),  # arrival delay, ms (within the allowed lateness)
)


@settings(max_examples=60, deadline=None)
@given(prints=st.lists(_print, min_size=1, max_size=40), late_ms=st.sampled_from([0, 500, 2_000]))
def test_candles_do_not_depend_on_arrival_order_within_the_lateness(
    prints: list[tuple[int, int, int, bool, bool, int]], late_ms: int
) -> None:
    config = EquitiesConfig(candle_late_ms=late_ms)
    trades = [
        (
            at_ms,
            delay * late_ms // max(1, CONFIG.candle_late_ms),
            equity_trade(
                at_ms,
                f"{cents / 100:.2f}",
                size,
                placement="A",
                last_sale_eligible=eligible,
                off_exchange=off,
                excluded_reasons=() if eligible else ("odd_lot",),
                sequence=i,
            ),
        )
        for i, (at_ms, cents, size, eligible, off, delay) in enumerate(prints)
    ]
    in_time_order = [t for _, _, t in sorted(trades, key=lambda x: (x[2].ts_event, x[2].sequence))]
    # Arrival by time plus a delay of at most the lateness: no print is ever behind the watermark.
    arrival = [t for _, _, t in sorted(trades, key=lambda x: (x[0] + x[1], x[2].sequence))]
    expected = _run(in_time_order, config)
    got = _run(arrival, config)

    def key(c: Candle) -> tuple[str, int]:
        return c.interval, c.window_start_ns

    assert sorted(got, key=key) == sorted(expected, key=key)
    assert all(c.late_prints == 0 for c in got)
    assert sum(c.volume_shares for c in _by(got, "1s")) == sum(size for _, _, size, *_ in prints)


def test_watermark_is_print_time_minus_lateness() -> None:
    builder = CandleBuilder(CONFIG)
    builder.on_trade(_t(5_000, "10"))
    assert builder.watermark_ns == ts(5_000) - 2_000 * NS_PER_MS


def test_next_window_end_is_the_earliest_open_windows() -> None:
    builder = CandleBuilder(CONFIG)
    assert builder.next_window_end_ns() is None
    builder.add(_t(1_500, "10.00"))
    builder.add(_t(700, "10.00", symbol="QQQ"))
    assert builder.next_window_end_ns() == ts(1_000), "QQQ's 1 s window [0, 1 s)"
    builder.advance(ts(1_000))
    # SPY's 1 s window [1 s, 2 s) is next; QQQ's closed one went into its longer windows, which end later.
    assert builder.next_window_end_ns() == ts(2_000)
    builder.flush()
    assert builder.next_window_end_ns() is None
