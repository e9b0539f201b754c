"""The underlying's price at a print: its quote, else put-call parity on the nearest expiry, else none."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.models import AnyEvent, EquityQuote, OptionNbbo, OptionPrint
from events.units import NS_PER_MS, NS_PER_S, price_e9
from operators.nbbo_join import QuoteBook
from operators.underlying_price import UnderlyingMark, UnderlyingPrice
from tests.factories import equity_quote, occ, quote, quote_ns, trade, trade_ns, ts

WINDOW_NS = 300 * NS_PER_S  # the underlying_parity_window_ms default
EXPIRY = "2026-03-20"
C100 = occ("100", "C", expiry=EXPIRY)
P100 = occ("100", "P", expiry=EXPIRY)


def _book(*events: AnyEvent) -> UnderlyingPrice:
    """An underlying price book fed like the engine feeds it: option quotes go to the (shared) option book."""
    up = UnderlyingPrice(WINDOW_NS, QuoteBook())
    feed(up, *events)
    return up


def feed(up: UnderlyingPrice, *events: AnyEvent) -> None:
    for event in events:
        if isinstance(event, OptionNbbo):
            up.option_book.update(event)
        elif isinstance(event, EquityQuote):
            up.on_equity_quote(event)
        elif isinstance(event, OptionPrint):
            up.on_print(event)


def _pair(
    at_ms: float, call: tuple[str, str], put: tuple[str, str], strike: str = "100", expiry: str = EXPIRY
) -> tuple[OptionNbbo, OptionNbbo]:
    """Quotes of the call and the put at one strike: (bid, ask) each."""
    return (
        quote(at_ms, *call, symbol=occ(strike, "C", expiry=expiry)),
        quote(at_ms, *put, symbol=occ(strike, "P", expiry=expiry)),
    )


def test_call_mid_minus_put_mid_plus_strike() -> None:
    # Call mid 5.10, put mid 2.00 at strike 100 -> 103.10.
    up = _book(quote(0, "5.00", "5.20", symbol=C100), quote(10, "1.90", "2.10", symbol=P100))
    mark = up.at("SPY", ts(400))
    assert mark == UnderlyingMark(price_e9("103.10"), "implied", ts(0), price_e9("100"))
    assert mark is not None
    assert mark.age_ms(ts(400)) == 400, "the age of the oldest quote used"


def test_quotes_carried_on_prints_count_like_quote_events() -> None:
    # A tape quoted only on its trades (tcbbo/tbbo): each right's quote arrives with a print of it.
    up = _book(
        trade(0, "5.20", 1, symbol=C100, nbbo=("5.00", "5.20")),
        trade(60_000, "2.00", 3, symbol=P100, nbbo=("1.90", "2.10")),
    )
    assert up.at("SPY", ts(90_000)) == UnderlyingMark(price_e9("103.10"), "implied", ts(0), price_e9("100"))


def test_the_nearest_expiry_not_yet_expired_is_used() -> None:
    up = _book(
        *_pair(0, ("5.00", "5.20"), ("1.90", "2.10"), expiry="2026-03-20"),  # 103.10
        *_pair(0, ("4.00", "4.10"), ("0.90", "0.94"), expiry="2026-03-06"),  # 103.13: the nearest expiry
        *_pair(0, ("9.00", "9.10"), ("0.10", "0.12"), expiry="2026-02-27"),  # expired before the session
    )
    mark = up.at("SPY", ts(1_000))
    assert mark is not None
    assert mark.price_e9 == price_e9("103.13")


def test_an_expiry_without_a_fresh_pair_gives_way_to_the_next() -> None:
    up = _book(
        quote(0, "4.00", "4.10", symbol=occ("100", "C", expiry="2026-03-06")),  # no put on the nearest expiry
        *_pair(0, ("5.00", "5.20"), ("1.90", "2.10")),
    )
    mark = up.at("SPY", ts(1_000))
    assert mark is not None
    assert mark.price_e9 == price_e9("103.10")


def test_a_same_day_expiry_counts_until_the_date_turns() -> None:
    today = "2026-03-02"  # T0's New York date
    up = _book(*_pair(0, ("3.05", "3.15"), ("0.05", "0.07"), expiry=today))
    mark = up.at("SPY", ts(1_000))
    assert mark is not None
    assert mark.price_e9 == price_e9("103.04")
    assert up.contracts == 2
    assert len(up.option_book) == 2
    assert up.at("SPY", ts(86_400_000)) is None, "next day: expired (and its quotes stale)"
    assert up.contracts == 0, "the expired series is dropped when the New York date turns"
    assert len(up.option_book) == 0, "with its contracts' quotes"
    feed(up, quote(86_400_100, "0.01", "0.02", symbol=occ("100", "C", expiry=today)))
    assert up.option_book.as_of(occ("100", "C", expiry=today), ts(86_400_200)) is not None, "a late quote starts anew"


@pytest.mark.parametrize(
    ("age_ns", "used"),
    [pytest.param(WINDOW_NS, True, id="window-old-counts"), pytest.param(WINDOW_NS + 1, False, id="older-ignored")],
)
def test_a_quote_older_than_the_window_is_ignored(age_ns: int, used: bool) -> None:
    at = ts(0) + age_ns
    up = _book(quote(0, "5.00", "5.20", symbol=C100), quote_ns(at, "1.90", "2.10", symbol=P100))
    assert (up.at("SPY", at) is not None) is used


def test_a_setting_in_minutes_pairs_rights_quoted_minutes_apart() -> None:
    tight = UnderlyingPrice(5 * NS_PER_S, QuoteBook())
    feed(tight, quote(0, "5.00", "5.20", symbol=C100), quote(60_000, "1.90", "2.10", symbol=P100))
    assert tight.at("SPY", ts(60_000)) is None, "a 5 s window never pairs rights quoted a minute apart"
    assert _book(quote(0, "5.00", "5.20", symbol=C100), quote(60_000, "1.90", "2.10", symbol=P100)).at(
        "SPY", ts(60_000)
    ) == UnderlyingMark(price_e9("103.10"), "implied", ts(0), price_e9("100"))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(("0.00", "5.20"), id="no-bid"),
        pytest.param(("5.00", "0.00"), id="no-ask"),
        pytest.param(("5.30", "5.20"), id="crossed"),
    ],
)
def test_one_sided_and_crossed_quotes_are_ignored(call: tuple[str, str]) -> None:
    up = _book(quote(0, *call, symbol=C100), quote(0, "1.90", "2.10", symbol=P100))
    assert up.at("SPY", ts(1)) is None


def test_a_one_sided_quote_carried_on_a_print_is_ignored() -> None:
    up = _book(trade(0, "5.20", 1, symbol=C100, nbbo=("0.00", "5.20")), quote(0, "1.90", "2.10", symbol=P100))
    assert up.at("SPY", ts(1)) is None


def test_the_equity_quote_wins_over_parity() -> None:
    up = _book(*_pair(0, ("5.00", "5.20"), ("1.90", "2.10")), equity_quote(100, "103.50", "103.52"))
    assert up.at("SPY", ts(400)) == UnderlyingMark(price_e9("103.51"), "quote", ts(100), None)


def test_a_stale_or_one_sided_equity_quote_gives_way_to_parity() -> None:
    up = _book(equity_quote(0, "103.50", "103.52"), *_pair(WINDOW_NS / NS_PER_MS, ("5.00", "5.20"), ("1.90", "2.10")))
    mark = up.at("SPY", ts(0) + WINDOW_NS + 1)
    assert mark is not None
    assert (mark.source, mark.price_e9) == ("implied", price_e9("103.10"))
    up = _book(equity_quote(0, "103.50", "0.00"), *_pair(0, ("5.00", "5.20"), ("1.90", "2.10")))
    mark = up.at("SPY", ts(1))
    assert mark is not None
    assert mark.source == "implied"


def test_a_one_sided_equity_quote_leaves_the_latest_two_sided_one_in_force() -> None:
    up = _book(equity_quote(0, "103.50", "103.52"), equity_quote(100, "103.60", "0.00"), equity_quote(200, "0.00", "1"))
    assert up.at("SPY", ts(300)) == UnderlyingMark(price_e9("103.51"), "quote", ts(0), None)


def test_equity_quotes_out_of_order_are_looked_up_in_time_order() -> None:
    up = _book(equity_quote(200, "103.70", "103.72"), equity_quote(100, "103.50", "103.52"))
    assert up.at("SPY", ts(150)) == UnderlyingMark(price_e9("103.51"), "quote", ts(100), None)
    assert up.at("SPY", ts(250)) == UnderlyingMark(price_e9("103.71"), "quote", ts(200), None)


def test_a_price_stamped_on_the_print_is_the_providers_quote() -> None:
    up = _book(equity_quote(0, "103.50", "103.52"))
    stamped = trade_ns(ts(10), "5.10", 1, symbol=C100, underlying_price="103.40")
    assert up.for_print(stamped.__dict__) == UnderlyingMark(price_e9("103.40"), "quote", ts(10), None)
    plain = trade(10, "5.10", 1, symbol=C100)
    assert up.for_print(plain.__dict__) == UnderlyingMark(price_e9("103.51"), "quote", ts(0), None)


def test_never_a_later_quote() -> None:
    up = _book(
        equity_quote(2_000, "103.50", "103.52"),
        *_pair(1_000, ("5.00", "5.20"), ("1.90", "2.10")),
        trade(3_000, "5.20", 1, symbol=occ("105", "C", expiry=EXPIRY), nbbo=("2.00", "2.10")),
        trade(3_000, "3.90", 1, symbol=occ("105", "P", expiry=EXPIRY), nbbo=("3.80", "3.90")),
    )
    assert up.at("SPY", ts(999)) is None, "every quote came after"
    assert up.at("SPY", ts(1_500)) == UnderlyingMark(price_e9("103.10"), "implied", ts(1_000), price_e9("100"))
    assert up.at("SPY", ts(2_500)) == UnderlyingMark(price_e9("103.51"), "quote", ts(2_000), None)


def test_without_an_estimate_the_tightest_pair_then_the_strike_nearest_the_estimate() -> None:
    up = _book(
        *_pair(0, ("8.60", "8.60"), ("0.50", "0.50"), strike="95"),  # 103.10, |c - p| 8.10
        *_pair(0, ("5.10", "5.10"), ("2.00", "2.00"), strike="100"),  # 103.10, |c - p| 3.10
        *_pair(0, ("2.00", "2.00"), ("3.92", "3.92"), strike="105"),  # 103.08, |c - p| 1.92: the tightest
    )
    mark = up.at("SPY", ts(0))
    assert mark is not None
    assert (mark.strike_e9, mark.price_e9) == (price_e9("105"), price_e9("103.08"))
    # The 105 pair goes one-sided: from the estimate 103.08 the nearest strike with a pair is 100 (95 is farther).
    feed(up, quote(1_000, "0.00", "2.00", symbol=occ("105", "C", expiry=EXPIRY)))
    mark = up.at("SPY", ts(1_000))
    assert mark is not None
    assert (mark.strike_e9, mark.price_e9) == (price_e9("100"), price_e9("103.10"))


def test_series_of_different_roots_are_not_paired() -> None:
    # SPX (AM-settled) and SPXW (PM-settled) share dates and strikes but are different options.
    spx_call = occ("5800", "C", expiry=EXPIRY, root="SPXW")
    spx_put = occ("5800", "P", expiry=EXPIRY, root="SPX")
    up = _book(quote(0, "60.00", "61.00", symbol=spx_call), quote(0, "40.00", "41.00", symbol=spx_put))
    assert up.at("SPX", ts(1)) is None


def test_contracts_are_learned_from_the_book_prints_and_definitions() -> None:
    up = _book(*_pair(0, ("5.00", "5.20"), ("1.90", "2.10")))
    assert up.contracts == 2, "symbols the book saw first, parsed once"
    feed(up, trade(1, "1.00", 1, symbol=occ("110", "C", expiry=EXPIRY)))
    up.add_contract(occ("110", "P", expiry=EXPIRY), "SPY", "SPY", date.fromisoformat(EXPIRY), "P", price_e9("110"))
    assert up.contracts == 4


def test_an_implied_price_is_reused_within_its_second_and_never_for_an_earlier_print() -> None:
    up = _book(*_pair(0, ("5.00", "5.20"), ("1.90", "2.10")))
    first = up.at("SPY", ts(100))
    feed(up, quote(200, "6.00", "6.20", symbol=C100))
    assert up.at("SPY", ts(300)) == first, "same second: the price computed at 100 ms (quotes as of then)"
    later = up.at("SPY", ts(1_000))
    assert later is not None
    assert later.price_e9 == price_e9("104.10"), "next second: recomputed"
    feed(up, quote(1_100, "7.00", "7.20", symbol=C100))
    earlier = up.at("SPY", ts(1_050))
    assert earlier is not None
    assert earlier.price_e9 == price_e9("104.10"), "an earlier print recomputes, as of it"
    cached = up.at("SPY", ts(1_200))
    assert cached is not None
    assert cached.price_e9 == price_e9("104.10")


def test_no_chain_and_no_quote_is_no_price() -> None:
    assert _book().at("SPY", ts(0)) is None
    assert _book(quote(0, "5.00", "5.20", symbol=C100)).at("SPY", ts(1)) is None, "a call without its put"


_STRIKES = ("95", "100", "105", "110")


@settings(max_examples=60, deadline=None)
@given(
    mids=st.lists(st.integers(min_value=1, max_value=2_000), min_size=8, max_size=8),
    order=st.permutations(range(8)),
)
def test_the_implied_price_does_not_depend_on_input_order_within_a_timestamp(mids: list[int], order: list[int]) -> None:
    # Quotes of distinct contracts, all at one instant, fed in any order: the same price (ties go to the lower strike).
    events: list[AnyEvent] = []
    for i, strike in enumerate(_STRIKES):
        for j, right in enumerate("CP"):
            mid = mids[2 * i + j]
            events.append(quote_ns(ts(0), f"{mid / 100:.2f}", f"{(mid + 2) / 100:.2f}", symbol=occ(strike, right)))
    in_order = _book(*events).at("SPY", ts(5))
    shuffled = _book(*(events[k] for k in order)).at("SPY", ts(5))
    assert shuffled == in_order
    assert in_order is not None
    assert in_order.quote_ts == ts(0)


def test_the_age_is_whole_milliseconds_and_never_negative() -> None:
    mark = UnderlyingMark(price_e9("100"), "quote", ts(0), None)
    assert (mark.age_ms(ts(0) + NS_PER_MS - 1), mark.age_ms(ts(0) + NS_PER_MS), mark.age_ms(ts(-1))) == (0, 1, 0)
