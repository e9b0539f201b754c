"""As-of join of equity prints to the consolidated quote, placement and the EquityTrade built from it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.ids import derived_event_id
from events.models import EquityQuote, Placement, Side
from events.units import NS_PER_MS, price_e9
from operators.equity_join import EquityJoin, build_trade, quote_at_trade
from tests.factories import T0, equity_print, equity_print_ns, equity_quote, equity_quote_ns

MAX_AGE_NS = 1_500 * NS_PER_MS


def _join(*quotes: EquityQuote) -> EquityJoin:
    join = EquityJoin(MAX_AGE_NS, 0.1)
    for q in quotes:
        join.on_quote(q)
    return join


@pytest.mark.parametrize(
    ("price", "placement", "side"),
    [
        pytest.param("100.11", "AA", "buy", id="through-ask"),
        pytest.param("100.10", "A", "buy", id="at-ask"),
        pytest.param("100.09", "A", "buy", id="band-edge-ask"),
        pytest.param("100.05", "MID", "unknown", id="midpoint"),
        pytest.param("100.0501", "MID", "unknown", id="sub-penny-mid"),
        pytest.param("100.01", "B", "sell", id="band-edge-bid"),
        pytest.param("100.00", "B", "sell", id="at-bid"),
        pytest.param("99.99", "BB", "sell", id="through-bid"),
    ],
)
def test_placement_against_the_consolidated_quote(price: str, placement: Placement, side: Side) -> None:
    joined = _join(equity_quote(0, "100.00", "100.10")).on_print(equity_print(10, price, 500))
    assert (joined.placement, joined.side, joined.tick_test) == (placement, side, False)


@pytest.mark.parametrize(
    ("quotes", "at_ms", "placement"),
    [
        pytest.param((), 10, "MISSING", id="no-quote"),
        pytest.param((("100.00", "100.10", 20),), 10, "MISSING", id="only-a-later-quote"),
        pytest.param((("100.00", "100.10", 0),), 1_500, "MID", id="age-equals-max-is-fresh"),
        pytest.param((("100.00", "100.10", 0),), 1_500.000001, "STALE", id="age-max-plus-1ns-is-stale"),
        pytest.param((("100.20", "100.10", 0),), 10, "CROSSED", id="crossed"),
    ],
)
def test_quote_context(quotes: tuple[tuple[str, str, float], ...], at_ms: float, placement: Placement) -> None:
    join = _join(*(equity_quote(at, bid, ask) for bid, ask, at in quotes))
    joined = join.on_print(equity_print(at_ms, "100.05", 500))
    assert joined.placement == placement
    assert joined.side == "unknown"


def test_locked_market_falls_back_to_the_tick_test() -> None:
    join = _join(equity_quote(0, "100.05", "100.05"))
    first = join.on_print(equity_print(1, "100.05", 500))
    up = join.on_print(equity_print(2, "100.06", 500))
    down = join.on_print(equity_print(3, "100.04", 500))
    assert (first.placement, first.tick_test) == ("MID", True)
    assert (up.placement, up.side, up.tick_test) == ("A", "buy", True)
    assert (down.placement, down.side, down.tick_test) == ("B", "sell", True)


def test_the_provider_quote_at_trade_wins_over_the_book() -> None:
    join = _join(equity_quote(0, "100.00", "100.10"))
    joined = join.on_print(equity_print(5, "100.20", 500, quote=("100.15", "100.20")))
    assert joined.placement == "A"
    assert joined.quote is not None
    assert (joined.quote.bid_e9, joined.quote.ask_e9, joined.quote.ts_event) == (
        price_e9("100.15"),
        price_e9("100.20"),
        joined.print.ts_event,
    )
    assert quote_at_trade(equity_print(5, "1", 1)) is None


@pytest.mark.parametrize(
    "conditions",
    [
        pytest.param(("average_price",), id="average-price"),
        pytest.param(("prior_reference_price",), id="prior-reference"),
        pytest.param(("late", "out_of_sequence"), id="late"),
    ],
)
def test_prints_priced_off_the_quote_are_placed_without_a_side(conditions: tuple[str, ...]) -> None:
    joined = _join(equity_quote(0, "100.00", "100.10")).on_print(equity_print(5, "100.10", 500, conditions=conditions))
    assert joined.placement == "A"
    assert joined.side == "unknown"


def test_venue_quotes_are_consolidated() -> None:
    join = EquityJoin(MAX_AGE_NS, 0.1)
    for venue, bid, ask in (("XNAS", "100.00", "100.10"), ("ARCX", "100.02", "100.12")):
        quote = equity_quote(0, bid, ask).model_copy(update={"venue": venue})
        join.on_quote(quote)
    joined = join.on_print(equity_print(5, "100.10", 500))
    assert joined.quote is not None
    assert (joined.quote.bid_e9, joined.quote.ask_e9) == (price_e9("100.02"), price_e9("100.10"))
    assert joined.placement == "A"


def test_build_trade_carries_the_join_and_eligibility() -> None:
    join = _join(equity_quote(0, "580.10", "580.14"))
    event = equity_print(12, "580.12", 30, conditions=("iso",))
    trade = build_trade(join.on_print(event))
    assert trade.id == derived_event_id("equity_trade", (event.id,))
    assert trade.print_id == event.id
    assert (trade.symbol, trade.underlying, trade.venue, trade.off_exchange) == ("SPY", "SPY", "FINN", True)
    assert trade.notional_cents == 1_740_360  # 580.12 x 30 = $17,403.60
    assert (trade.placement, trade.side, trade.stale, trade.quote_age_ns) == ("MID", "unknown", False, 12 * NS_PER_MS)
    assert (trade.bid_e9, trade.ask_e9, trade.bid_size_shares) == (price_e9("580.10"), price_e9("580.14"), 300)
    assert trade.round_lot_shares == 40
    assert (trade.size_eligible, trade.last_sale_eligible, trade.excluded_reasons) == (False, False, ("odd_lot",))
    assert trade.conditions == ("iso",)


def test_build_trade_without_a_quote() -> None:
    trade = build_trade(_join().on_print(equity_print(0, "10", 100)))
    assert trade.placement == "MISSING"
    assert (trade.bid_e9, trade.ask_e9, trade.quote_age_ns, trade.stale) == (None, None, None, False)


def test_stale_flag_follows_the_quote_age() -> None:
    trade = build_trade(_join(equity_quote(0, "10.00", "10.02")).on_print(equity_print(2_000, "10.01", 100)))
    assert (trade.placement, trade.stale, trade.quote_age_ns) == ("STALE", True, 2_000 * NS_PER_MS)


@settings(max_examples=200, deadline=None)
@given(
    quote_offsets=st.lists(st.integers(0, 5_000), min_size=0, max_size=30),
    print_offset=st.integers(0, 5_000),
    keep_back=st.integers(0, 5_000),
)
def test_never_a_later_quote(quote_offsets: list[int], print_offset: int, keep_back: int) -> None:
    """The quote used is the latest at or before the print (ties: the last recorded), never a later one, whatever
    order the quotes came in; pruning behind `keep_from` (at or before the print) loses nothing it needs."""
    join = EquityJoin(10**18, 0.1)
    quotes = [
        equity_quote_ns(T0 + off, price_e9("100") + i * 1_000_000, price_e9("101") + i * 1_000_000)
        for i, off in enumerate(quote_offsets)
    ]
    print_ts = T0 + print_offset
    keep_from = print_ts - keep_back if keep_back else None
    for q in quotes:
        join.on_quote(q, keep_from)
    joined = join.on_print(equity_print_ns(print_ts, price_e9("100.5"), 100))
    at_or_before = [q for q in quotes if q.ts_event <= print_ts]
    if joined.quote is None:
        assert not at_or_before
        return
    assert joined.quote.ts_event <= print_ts
    latest_ts = max(q.ts_event for q in at_or_before)
    assert joined.quote.ts_event == latest_ts
    expected = [q for q in at_or_before if q.ts_event == latest_ts][-1]
    assert (joined.quote.bid_e9, joined.quote.ask_e9) == (expected.bid_e9, expected.ask_e9)


def test_the_engine_path_builds_the_same_trade() -> None:
    tape = [equity_print(5, "100.05", 500), equity_print(6, "100.10", 10, conditions=("odd_lot",))]
    slow, fast = _join(equity_quote(0, "100.00", "100.10")), _join(equity_quote(0, "100.00", "100.10"))
    for event in tape:
        assert fast.trade(event) == build_trade(slow.on_print(event))
