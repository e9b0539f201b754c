"""As-of NBBO join and placement (BEHAVIOR section 2), in integer fixed-point."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.models import Placement, Side
from events.units import NS_PER_MS
from operators.nbbo_join import (
    NbboJoin,
    Quote,
    QuoteBook,
    is_complex,
    place,
    quote_at_trade,
    quote_state,
    side_of,
)
from tests.factories import CALL, PUT, quote, quote_ns, trade, trade_ns, ts

MAX_AGE_NS = 1_500 * NS_PER_MS
BAND = 0.1
BID, ASK = 1_000_000_000, 1_100_000_000  # 1.00 x 1.10: spread 0.10, band 0.01
T = ts(0)


def _place(price_e9: int, q: Quote | None, at: int = T, band: float = BAND, prev: int | None = None) -> Placement:
    placement, _ = place(price_e9, q, at, max_age_ns=MAX_AGE_NS, at_side_band=band, prev_price_e9=prev)
    return placement


def _quote(bid: int = BID, ask: int = ASK, at: int = T) -> Quote:
    return Quote(ts_event=at, bid_e9=bid, ask_e9=ask, bid_size=10, ask_size=20)


@pytest.mark.parametrize(
    ("price_e9", "expected"),
    [
        pytest.param(ASK + 1, "AA", id="one-tick-through-ask"),
        pytest.param(ASK, "A", id="at-ask"),
        pytest.param(1_090_000_000, "A", id="band-edge-ask"),
        pytest.param(1_089_999_999, "MID", id="just-inside-band-edge-ask"),
        pytest.param(1_050_000_000, "MID", id="midpoint"),
        pytest.param(1_010_000_001, "MID", id="just-inside-band-edge-bid"),
        pytest.param(1_010_000_000, "B", id="band-edge-bid"),
        pytest.param(BID, "B", id="at-bid"),
        pytest.param(BID - 1, "BB", id="one-tick-through-bid"),
    ],
)
def test_placement_at_band_edges(price_e9: int, expected: Placement) -> None:
    assert _place(price_e9, _quote()) == expected


@pytest.mark.parametrize(
    ("price_e9", "expected"),
    [
        # spread 105 (1e-9 units): band 10.5, so A is price >= 94.5 above the bid and B is <= 10.5.
        pytest.param(1_000_000_095, "A", id="a-edge-rounds-in"),
        pytest.param(1_000_000_094, "MID", id="a-edge-rounds-out"),
        pytest.param(1_000_000_010, "B", id="b-edge-rounds-in"),
        pytest.param(1_000_000_011, "MID", id="b-edge-rounds-out"),
    ],
)
def test_placement_band_edges_on_an_indivisible_spread(price_e9: int, expected: Placement) -> None:
    assert _place(price_e9, _quote(bid=1_000_000_000, ask=1_000_000_105)) == expected


@pytest.mark.parametrize(
    ("band", "price_e9", "expected"),
    [
        pytest.param(0.0, ASK, "A", id="no-band-at-ask"),
        pytest.param(0.0, ASK - 1, "MID", id="no-band-inside-ask"),
        pytest.param(0.0, BID, "B", id="no-band-at-bid"),
        pytest.param(0.0, BID + 1, "MID", id="no-band-inside-bid"),
        pytest.param(0.25, 1_075_000_000, "A", id="quarter-band-ask-edge"),
        pytest.param(0.25, 1_074_999_999, "MID", id="quarter-band-inside"),
        pytest.param(0.5, 1_050_000_000, "A", id="half-band-midpoint-goes-to-ask"),
        pytest.param(0.5, 1_049_999_999, "B", id="half-band-below-midpoint"),
    ],
)
def test_placement_follows_band_setting(band: float, price_e9: int, expected: Placement) -> None:
    assert _place(price_e9, _quote(), band=band) == expected


@pytest.mark.parametrize(
    ("q", "at", "expected"),
    [
        pytest.param(None, T, "MISSING", id="no-quote"),
        pytest.param(_quote(at=T - MAX_AGE_NS), T, "A", id="age-equals-max-is-fresh"),
        pytest.param(_quote(at=T - MAX_AGE_NS - 1), T, "STALE", id="age-max-plus-1ns-is-stale"),
        pytest.param(_quote(bid=ASK + 1), T, "CROSSED", id="bid-above-ask"),
        pytest.param(_quote(ask=0, bid=0), T, "CROSSED", id="ask-zero"),
        pytest.param(_quote(ask=0), T, "CROSSED", id="ask-zero-with-bid"),
        pytest.param(_quote(bid=ASK + 1, at=T - MAX_AGE_NS - 1), T, "STALE", id="stale-wins-over-crossed"),
        pytest.param(_quote(bid=0), T, "A", id="no-bid-still-placed"),
    ],
)
def test_quote_context_placements(q: Quote | None, at: int, expected: Placement) -> None:
    assert _place(ASK, q, at) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param(None, "missing", id="missing"),
        pytest.param(_quote(at=T - MAX_AGE_NS - 1), "stale", id="stale"),
        pytest.param(_quote(bid=ASK + 1), "crossed", id="crossed"),
        pytest.param(_quote(bid=ASK), "locked", id="locked"),
        pytest.param(_quote(), "ok", id="ok"),
    ],
)
def test_quote_state(q: Quote | None, expected: str) -> None:
    assert quote_state(q, T, MAX_AGE_NS) == expected


@pytest.mark.parametrize(
    ("prev", "price_e9", "expected"),
    [
        pytest.param(None, BID, "MID", id="first-print"),
        pytest.param(BID - 1, BID, "A", id="uptick"),
        pytest.param(BID + 1, BID, "B", id="downtick"),
        pytest.param(BID, BID, "MID", id="flat"),
        pytest.param(BID, BID + 50_000_000, "A", id="uptick-through-locked-price"),
    ],
)
def test_locked_market_falls_back_to_tick_test(prev: int | None, price_e9: int, expected: Placement) -> None:
    placement, tick = place(
        price_e9, _quote(bid=BID, ask=BID), T, max_age_ns=MAX_AGE_NS, at_side_band=BAND, prev_price_e9=prev
    )
    assert (placement, tick) == (expected, True)


def test_unlocked_market_does_not_use_the_tick_test() -> None:
    assert place(ASK, _quote(), T, max_age_ns=MAX_AGE_NS, at_side_band=BAND, prev_price_e9=ASK + 5) == ("A", False)


@pytest.mark.parametrize(
    ("placement", "side"),
    [
        ("AA", "buy"),
        ("A", "buy"),
        ("MID", "unknown"),
        ("B", "sell"),
        ("BB", "sell"),
        ("MISSING", "unknown"),
        ("STALE", "unknown"),
        ("CROSSED", "unknown"),
    ],
    ids=lambda v: str(v),
)
def test_side_of(placement: Placement, side: Side) -> None:
    assert side_of(placement) == side


# ---------------------------------------------------------------------------------------- NbboJoin


def _join() -> NbboJoin:
    return NbboJoin(MAX_AGE_NS, BAND)


@pytest.mark.parametrize(
    ("quote_at_ms", "print_at_ns", "expected"),
    [
        pytest.param(0, ts(1_500), "A", id="age-equals-max"),
        pytest.param(0, ts(1_500) + 1, "STALE", id="age-max-plus-1ns"),
        pytest.param(10, ts(10), "A", id="same-timestamp-quote-counts"),
        pytest.param(10, ts(10) - 1, "MISSING", id="quote-1ns-after-print-ignored"),
    ],
)
def test_join_uses_quote_as_of_print_time(quote_at_ms: float, print_at_ns: int, expected: Placement) -> None:
    join = _join()
    join.on_quote(quote(quote_at_ms, "1.00", "1.10"))
    assert join.on_print(trade_ns(print_at_ns, "1.10", 1)).placement == expected


def test_join_missing_when_only_other_contracts_are_quoted() -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10", symbol=PUT))
    placed = join.on_print(trade(5, "1.10", 1, symbol=CALL))
    assert (placed.placement, placed.side, placed.quote) == ("MISSING", "unknown", None)


@pytest.mark.parametrize(
    ("price", "placement", "side"),
    [
        pytest.param("1.11", "AA", "buy", id="above-ask"),
        pytest.param("1.10", "A", "buy", id="at-ask"),
        pytest.param("1.05", "MID", "unknown", id="mid"),
        pytest.param("1.00", "B", "sell", id="at-bid"),
        pytest.param("0.99", "BB", "sell", id="below-bid"),
    ],
)
def test_join_places_and_sides(price: str, placement: Placement, side: Side) -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10", bid_size=10, ask_size=20))
    placed = join.on_print(trade(5, price, 3))
    assert (placed.placement, placed.side, placed.tick_test, placed.complex, placed.late) == (
        placement,
        side,
        False,
        False,
        False,
    )
    assert placed.quote == Quote(ts(0), 1_000_000_000, 1_100_000_000, 10, 20)


def test_join_crossed_quote_has_no_side() -> None:
    join = _join()
    join.on_quote(quote(0, "1.10", "1.00"))
    placed = join.on_print(trade(5, "1.10", 1))
    assert (placed.placement, placed.side) == ("CROSSED", "unknown")


def test_join_locked_market_tick_test_per_contract() -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.00"))
    join.on_quote(quote(0, "2.00", "2.00", symbol=PUT))
    results = [
        join.on_print(trade(1, "1.00", 1)),  # first print: MID
        join.on_print(trade(2, "2.50", 1, symbol=PUT)),  # other contract: its own first print
        join.on_print(trade(3, "1.01", 1)),  # uptick vs 1.00
        join.on_print(trade(4, "1.00", 1)),  # downtick vs 1.01
        join.on_print(trade(5, "1.00", 1)),  # flat
    ]
    assert [(p.placement, p.side, p.tick_test) for p in results] == [
        ("MID", "unknown", True),
        ("MID", "unknown", True),
        ("A", "buy", True),
        ("B", "sell", True),
        ("MID", "unknown", True),
    ]


def test_join_tick_test_remembers_prints_placed_without_quotes() -> None:
    join = _join()
    join.on_print(trade(0, "0.90", 1))  # MISSING, but its price is the previous print for the tick test
    join.on_quote(quote(1, "1.00", "1.00"))
    assert join.on_print(trade(2, "1.00", 1)).placement == "A"


@pytest.mark.parametrize(
    ("conditions", "complex_print", "side"),
    [
        pytest.param(("multi_leg",), True, "unknown", id="multi-leg"),
        pytest.param(("stock_tied",), True, "unknown", id="stock-tied"),
        pytest.param(("cross",), True, "unknown", id="cross"),
        pytest.param(("floor",), True, "unknown", id="floor"),
        pytest.param(("iso", "multi_leg"), True, "unknown", id="iso-multi-leg"),
        pytest.param(("iso",), False, "buy", id="iso-is-single-leg"),
        pytest.param(("late",), False, "buy", id="late-is-single-leg"),
        pytest.param((), False, "buy", id="plain"),
    ],
)
def test_complex_prints_keep_placement_but_lose_side(
    conditions: tuple[str, ...], complex_print: bool, side: Side
) -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10"))
    placed = join.on_print(trade(5, "1.10", 1, conditions=conditions))
    assert (placed.placement, placed.complex, placed.side) == ("A", complex_print, side)
    assert is_complex(placed.print) is complex_print


def test_provider_nbbo_at_trade_wins_over_the_book() -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10"))
    p = trade_ns(ts(5), "1.30", 4, nbbo=("1.20", "1.30"), nbbo_sizes=(7, 9))
    placed = join.on_print(p)
    assert placed.placement == "A"  # AA against the book's 1.10 ask
    assert placed.quote == Quote(ts(5), 1_200_000_000, 1_300_000_000, 7, 9)
    assert quote_at_trade(p) == placed.quote


def test_provider_nbbo_without_timestamp_is_as_of_the_trade() -> None:
    p = trade(5, "1.30", 4, nbbo=("1.20", "1.30")).model_copy(update={"nbbo_ts": None})
    q = quote_at_trade(p)
    assert q is not None
    assert (q.ts_event, q.bid_size, q.ask_size) == (p.ts_event, 0, 0)


def test_provider_nbbo_with_one_side_missing_falls_back_to_the_book() -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10"))
    p = trade(5, "1.10", 4, nbbo=("1.20", "1.30")).model_copy(update={"nbbo_ask_e9": None})
    assert quote_at_trade(p) is None
    placed = join.on_print(p)
    assert (placed.placement, placed.quote and placed.quote.ask_e9) == ("A", 1_100_000_000)


def test_provider_nbbo_old_enough_is_stale() -> None:
    p = trade(2_000, "1.30", 4, nbbo=("1.20", "1.30")).model_copy(update={"nbbo_ts": ts(0)})
    assert _join().on_print(p).placement == "STALE"


# ------------------------------------------------------------------------------------- venue books


def test_venue_books_consolidate_best_prices_and_sum_sizes_at_the_best() -> None:
    book = QuoteBook()
    book.update(quote(0, "1.00", "1.10", venue="XCBO", bid_size=10, ask_size=20))
    book.update(quote(1, "1.02", "1.12", venue="XPHL", bid_size=5, ask_size=7))
    book.update(quote(2, "1.02", "1.10", venue="XISE", bid_size=3, ask_size=4))
    assert book.as_of(CALL, ts(2)) == Quote(ts(2), 1_020_000_000, 1_100_000_000, 8, 24)
    # Earlier consolidated states stay answerable as of their time.
    assert book.as_of(CALL, ts(1)) == Quote(ts(1), 1_020_000_000, 1_100_000_000, 5, 20)
    assert book.as_of(CALL, ts(0)) == Quote(ts(0), 1_000_000_000, 1_100_000_000, 10, 20)


def test_venue_update_replaces_that_venues_quote() -> None:
    book = QuoteBook()
    book.update(quote(0, "1.00", "1.10", venue="XCBO", bid_size=10, ask_size=20))
    book.update(quote(1, "1.05", "1.08", venue="XPHL", bid_size=5, ask_size=7))
    book.update(quote(2, "0.90", "1.20", venue="XPHL", bid_size=5, ask_size=7))
    assert book.as_of(CALL, ts(2)) == Quote(ts(2), 1_000_000_000, 1_100_000_000, 10, 20)


def test_venue_without_bid_does_not_count_on_the_bid_side() -> None:
    book = QuoteBook()
    book.update(quote(0, "0", "1.05", venue="XCBO", bid_size=0, ask_size=20))
    book.update(quote(1, "1.00", "1.10", venue="XPHL", bid_size=5, ask_size=7))
    assert book.as_of(CALL, ts(1)) == Quote(ts(1), 1_000_000_000, 1_050_000_000, 5, 20)


def test_venue_books_are_per_contract() -> None:
    book = QuoteBook()
    book.update(quote(0, "1.00", "1.10", venue="XCBO"))
    book.update(quote(1, "3.00", "3.10", venue="XCBO", symbol=PUT))
    q = book.as_of(CALL, ts(5))
    assert q is not None
    assert (q.bid_e9, q.ask_e9) == (1_000_000_000, 1_100_000_000)
    assert len(book) == 2


def test_join_places_against_consolidated_venue_books() -> None:
    join = _join()
    join.on_quote(quote(0, "1.00", "1.10", venue="XCBO"))
    join.on_quote(quote(0, "1.02", "1.08", venue="XPHL"))
    assert join.on_print(trade(5, "1.08", 1)).placement == "A"  # at the consolidated ask, inside XCBO's


VenueQuote = tuple[float, str, str, str]
"""(at ms, venue, bid, ask): one venue's top of book, as an OPRA `mbp-1` record carries it."""


@pytest.mark.parametrize(
    ("venue_quotes", "print_at_ms", "expected"),
    [
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (1_000, "XPHL", "1.02", "1.08")],
            1_400,
            (1_020_000_000, 1_080_000_000, "ok"),
            id="both-fresh-best-of-both",
        ),
        pytest.param(
            [(0, "XCBO", "1.05", "1.10"), (1_000, "XPHL", "1.00", "1.04")],
            1_600,
            (1_000_000_000, 1_040_000_000, "ok"),
            id="stale-venue-drops-out-no-false-cross",
        ),
        pytest.param(
            [(0, "XCBO", "1.05", "1.10"), (1_000, "XPHL", "1.00", "1.04")],
            1_400,
            (1_050_000_000, 1_040_000_000, "crossed"),
            id="fresh-quotes-that-really-cross",
        ),
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (1_500, "XPHL", "1.02", "1.08")],
            1_500,
            (1_020_000_000, 1_080_000_000, "ok"),
            id="exactly-max-age-is-fresh",
        ),
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (200, "XPHL", "1.02", "1.08")],
            1_701,
            (1_020_000_000, 1_080_000_000, "stale"),
            id="every-venue-stale-newest-says-stale",
        ),
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (100, "XCBO", "1.01", "1.09"), (1_400, "XPHL", "1.02", "1.12")],
            1_550,
            (1_020_000_000, 1_090_000_000, "ok"),
            id="a-venues-own-update-ages-from-its-newest-quote",
        ),
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (1_000, "XCBO", "0", "0"), (1_000, "XPHL", "1.02", "1.12")],
            1_200,
            (1_020_000_000, 1_120_000_000, "ok"),
            id="a-cleared-venue-book-counts-on-neither-side",
        ),
        pytest.param(
            [(0, "XCBO", "1.00", "1.10"), (2_000, "XPHL", "1.02", "1.08")],
            1_000,
            (1_000_000_000, 1_100_000_000, "ok"),
            id="a-later-venue-quote-is-never-used",
        ),
    ],
)
def test_venue_quotes_age_venue_by_venue(
    venue_quotes: list[VenueQuote], print_at_ms: float, expected: tuple[int, int, str]
) -> None:
    book = QuoteBook(MAX_AGE_NS)
    for at, venue, bid, ask in venue_quotes:
        book.update(quote(at, bid, ask, venue=venue))
    found = book.as_of(CALL, ts(print_at_ms))
    assert found is not None
    assert found.ts_event <= ts(print_at_ms)
    assert (found.bid_e9, found.ask_e9, quote_state(found, ts(print_at_ms), MAX_AGE_NS)) == expected


def test_venue_books_age_with_the_joins_max_age() -> None:
    join = NbboJoin(100 * NS_PER_MS, BAND)
    join.on_quote(quote(0, "1.05", "1.10", venue="XCBO"))
    join.on_quote(quote(150, "1.00", "1.04", venue="XPHL"))
    placed = join.on_print(trade(200, "1.04", 1))
    assert placed.placement == "A", "XCBO's 1.05 bid is 200 ms old: out of the book, so no false CROSSED"
    assert placed.quote == Quote(ts(150), 1_000_000_000, 1_040_000_000, 50, 50)


def test_venue_history_is_pruned_by_keep_from() -> None:
    book = QuoteBook(MAX_AGE_NS)
    for i in range(10):
        book.update(quote(i, "1.00", "1.10", venue="XCBO"), keep_from=ts(4.5))
    assert book.as_of(CALL, ts(3.9)) is None
    kept = book.as_of(CALL, ts(4.5))
    assert kept is not None
    assert kept.ts_event == ts(4)
    assert len(book.venues_as_of(CALL, ts(9))) == 1


# ---------------------------------------------------------------------------------- out of order


@pytest.mark.parametrize(
    ("print_at_ms", "expected_quote_ms"),
    [
        pytest.param(5, 0, id="before-late-quote"),
        pytest.param(10, 10, id="at-late-quote"),
        pytest.param(15, 10, id="after-late-quote"),
        pytest.param(25, 20, id="after-newest"),
        pytest.param(-1, None, id="before-all"),
    ],
)
def test_out_of_order_quotes_still_answer_as_of(print_at_ms: float, expected_quote_ms: float | None) -> None:
    book = QuoteBook()
    for at in (0, 20, 10):  # the 10 ms quote arrives last
        book.update(quote(at, "1.00", "1.10"))
    found = book.as_of(CALL, ts(print_at_ms))
    assert (found.ts_event if found else None) == (None if expected_quote_ms is None else ts(expected_quote_ms))


def test_same_timestamp_quotes_latest_arrival_wins() -> None:
    book = QuoteBook()
    book.update(quote(0, "1.00", "1.10"))
    book.update(quote(0, "1.01", "1.09"))
    found = book.as_of(CALL, ts(0))
    assert found is not None
    assert found.bid_e9 == 1_010_000_000


def test_history_is_kept_by_time_not_by_count() -> None:
    book = QuoteBook()
    for i in range(200):
        book.update(quote(i, "1.00", "1.10"))
    found = book.as_of(CALL, ts(3.5))
    assert found is not None
    assert found.ts_event == ts(3), "a print far behind the quote stream still finds its as-of quote"


def test_keep_from_drops_only_quotes_no_later_print_can_need() -> None:
    book = QuoteBook()
    for i in range(10):
        book.update(quote(i, "1.00", "1.10"), keep_from=ts(4.5))
    assert book.as_of(CALL, ts(3.9)) is None, "quotes older than the newest one at or before keep_from are dropped"
    kept = book.as_of(CALL, ts(4.5))
    assert kept is not None
    assert kept.ts_event == ts(4), "the newest quote at or before keep_from answers prints at keep_from"
    later = book.as_of(CALL, ts(7.2))
    assert later is not None
    assert later.ts_event == ts(7)


# ------------------------------------------------------------------------------------- properties

quote_events = st.tuples(
    st.integers(min_value=0, max_value=60),  # ts offset in ns: small, so ties and reorderings are common
    st.integers(min_value=0, max_value=5),  # bid ticks
    st.integers(min_value=0, max_value=5),  # spread ticks
    st.sampled_from([CALL, PUT]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(quote_events, max_size=80), st.integers(min_value=-5, max_value=70))
def test_as_of_never_uses_a_later_quote_and_uses_the_latest(
    quotes: list[tuple[int, int, int, str]], print_offset: int
) -> None:
    book = QuoteBook()
    join = _join()
    arrived: list[tuple[int, int, Quote]] = []  # (ts, arrival index, quote) per CALL quote
    for index, (offset, bid_ticks, spread_ticks, symbol) in enumerate(quotes):
        bid = f"{1 + bid_ticks / 100:.2f}"
        ask = f"{1 + (bid_ticks + spread_ticks) / 100:.2f}"
        event = quote_ns(T + offset, bid, ask, symbol=symbol, bid_size=index, ask_size=index)
        book.update(event)
        join.on_quote(event)
        if symbol == CALL:
            arrived.append((event.ts_event, index, Quote(event.ts_event, event.bid_e9, event.ask_e9, index, index)))
    print_ts = T + print_offset
    # Brute force over every quote ever seen: the latest at or before the print (later arrival on ties).
    eligible = [q for t, _, q in sorted(arrived, key=lambda item: (item[0], item[1])) if t <= print_ts]
    expected = eligible[-1] if eligible else None

    found = book.as_of(CALL, print_ts)
    assert found == expected
    if found is not None:
        assert found.ts_event <= print_ts

    placed = join.on_print(trade_ns(print_ts, "1.02", 1))
    assert placed.quote == expected
    assert placed.quote is None or placed.quote.ts_event <= print_ts


venue_quote_events = st.tuples(
    st.integers(min_value=0, max_value=60),  # ts offset in ms: around the 25 ms max age below
    st.sampled_from(["XCBO", "XPHL", "XISE"]),
    st.integers(min_value=0, max_value=5),  # bid ticks
    st.integers(min_value=0, max_value=5),  # ask ticks (may cross another venue's bid)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(venue_quote_events, max_size=60), st.integers(min_value=-5, max_value=70))
def test_venue_books_never_use_a_later_quote_and_use_the_best_fresh_ones(
    quotes: list[tuple[int, str, int, int]], print_offset_ms: int
) -> None:
    max_age_ns = 25 * NS_PER_MS
    join = NbboJoin(max_age_ns, BAND)
    seen: list[tuple[int, int, str, int, int]] = []  # (ts, arrival, venue, bid, ask)
    for index, (offset, venue, bid_ticks, ask_ticks) in enumerate(quotes):
        event = quote(offset, f"{1 + bid_ticks / 100:.2f}", f"{1.02 + ask_ticks / 100:.2f}", venue=venue)
        join.on_quote(event)
        seen.append((event.ts_event, index, venue, event.bid_e9, event.ask_e9))
    print_ts = ts(print_offset_ms)
    # Brute force: each venue's latest quote at or before the print (later arrival on ties), fresh ones only.
    latest: dict[str, tuple[int, int, int]] = {}
    for at, _, venue, bid, ask in sorted(seen, key=lambda item: (item[0], item[1])):
        if at <= print_ts:
            latest[venue] = (at, bid, ask)
    fresh = [q for q in latest.values() if print_ts - q[0] <= max_age_ns]

    placed = join.on_print(trade_ns(print_ts, "1.03", 1))
    found = placed.quote
    if not latest:
        assert found is None
        assert placed.placement == "MISSING"
        return
    assert found is not None
    assert found.ts_event <= print_ts, "never a quote later than the print"
    if fresh:
        assert (found.ts_event, found.bid_e9, found.ask_e9) == (
            max(q[0] for q in fresh),
            max(q[1] for q in fresh),
            min(q[2] for q in fresh),
        )
        assert (placed.placement == "CROSSED") == (found.bid_e9 > found.ask_e9)
    else:
        assert placed.placement == "STALE"
