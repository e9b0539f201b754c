"""Per-contract packet clustering and packet features (BEHAVIOR section 3)."""

from __future__ import annotations

from typing import Any

import pytest

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import OptionPrint, Packet, Placement
from events.units import NS_PER_MS, price_e9
from operators.nbbo_join import NbboJoin, Placed, Quote
from operators.packets import PacketClusterer, build_packet
from operators.underlying_price import UnderlyingMark
from tests.factories import CALL, PUT, placed, quote, trade, trade_ns, ts

CFG = OptionsConfig()
GAP_NS = CFG.packet_gap_ns
WINDOW_NS = CFG.packet_window_ns


def _add_all(clusterer: PacketClusterer, prints: list[OptionPrint]) -> list[Packet]:
    out: list[Packet] = []
    for p in prints:
        out.extend(clusterer.add(placed(p)))
    return out


def _sizes(packets: list[Packet]) -> list[int]:
    return [p.print_count for p in packets]


# -------------------------------------------------------------------------------------- clustering


@pytest.mark.parametrize(
    ("offsets_ns", "packet_sizes"),
    [
        pytest.param([0, GAP_NS], [2], id="gap-equal-joins"),
        pytest.param([0, GAP_NS + 1], [1, 1], id="gap-plus-1ns-splits"),
        pytest.param([0, 1, 2], [3], id="tight-burst"),
        pytest.param([i * GAP_NS for i in range(6)], [6], id="span-equal-window-joins"),
        pytest.param([*[i * GAP_NS for i in range(6)], WINDOW_NS + 1], [6, 1], id="window-plus-1ns-splits"),
        pytest.param([i * GAP_NS for i in range(7)], [6, 1], id="window-full-starts-next"),
        pytest.param([0, GAP_NS + 1, 2 * GAP_NS + 1], [1, 2], id="split-then-join"),
        pytest.param([0, GAP_NS, GAP_NS // 2], [3], id="out-of-order-print-joins"),
    ],
)
def test_clustering_boundaries(offsets_ns: list[int], packet_sizes: list[int]) -> None:
    clusterer = PacketClusterer(CFG)
    closed = _add_all(clusterer, [trade_ns(ts(0) + off, "1.00", 1) for off in offsets_ns])
    closed += clusterer.flush()
    assert _sizes(closed) == packet_sizes
    assert sum(packet_sizes) == len(offsets_ns), "every print lands in exactly one packet"


def test_add_returns_the_packet_it_closed() -> None:
    clusterer = PacketClusterer(CFG)
    first = trade(0, "1.00", 1)
    assert clusterer.add(placed(first)) == []
    closed = clusterer.add(placed(trade_ns(ts(0) + GAP_NS + 1, "1.00", 1)))
    assert [p.print_ids for p in closed] == [(first.id,)]
    assert clusterer.open_count == 1


def test_contracts_cluster_independently() -> None:
    clusterer = PacketClusterer(CFG)
    closed = _add_all(clusterer, [trade(0, "1.00", 1), trade(50, "2.00", 1, symbol=PUT), trade(90, "1.00", 1)])
    assert closed == []
    assert clusterer.open_count == 2
    packets = clusterer.flush()
    assert sorted((p.symbol, p.print_count) for p in packets) == [(CALL, 2), (PUT, 1)]


@pytest.mark.parametrize(
    ("watermark_ns", "closes"),
    [
        pytest.param(ts(0) + GAP_NS - 1, False, id="before-deadline"),
        pytest.param(ts(0) + GAP_NS, False, id="at-deadline"),
        pytest.param(ts(0) + GAP_NS + 1, True, id="past-deadline"),
    ],
)
def test_advance_closes_only_when_the_watermark_passes_the_deadline(watermark_ns: int, closes: bool) -> None:
    clusterer = PacketClusterer(CFG)
    clusterer.add(placed(trade(0, "1.00", 1)))
    assert len(clusterer.advance(watermark_ns)) == int(closes)
    assert clusterer.open_count == int(not closes)


def test_deadline_moves_with_the_last_print() -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(0, "1.00", 1), trade(50, "1.00", 1)])
    assert clusterer.advance(ts(0) + GAP_NS + 1) == [], "the first print's deadline is superseded"
    assert clusterer.advance(ts(50) + GAP_NS) == []
    assert _sizes(clusterer.advance(ts(50) + GAP_NS + 1)) == [2]


def test_stale_deadline_of_a_split_packet_does_not_close_its_successor() -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(0, "1.00", 1), trade(200, "1.00", 1)])  # the second print splits
    assert clusterer.advance(ts(101)) == [], "the successor's deadline is 300 ms, not the old 100 ms"
    assert clusterer.open_count == 1
    assert _sizes(clusterer.advance(ts(300) + 1)) == [1]


def test_advance_closes_in_deadline_order() -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(0, "1.00", 1), trade(20, "2.00", 1, symbol=PUT), trade(50, "1.00", 1)])
    assert [p.symbol for p in clusterer.advance(ts(1_000))] == [PUT, CALL]
    assert clusterer.open_count == 0


@pytest.mark.parametrize(
    ("call_ms", "put_ms", "order"),
    [
        pytest.param(50, 20, [PUT, CALL], id="earlier-deadline-first"),
        pytest.param(20, 50, [CALL, PUT], id="call-first"),
        pytest.param(30, 30, [CALL, PUT], id="tie-by-symbol"),
    ],
)
def test_flush_closes_everything_in_deadline_order(call_ms: float, put_ms: float, order: list[str]) -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(call_ms, "1.00", 1), trade(put_ms, "2.00", 1, symbol=PUT)])
    assert [p.symbol for p in clusterer.flush()] == order
    assert clusterer.open_count == 0
    assert clusterer.flush() == []


def test_packet_closes_with_its_last_print_time() -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(0, "1.00", 1), trade(40, "1.00", 1), trade(70, "1.00", 1)])
    (packet,) = clusterer.flush()
    assert (packet.ts_event, packet.ts_first, packet.ts_last, packet.span_ns) == (
        ts(70),
        ts(0),
        ts(70),
        70 * NS_PER_MS,
    )


# ------------------------------------------------------------------------------------------- kinds


def _kind(prints: list[Placed]) -> str:
    return build_packet(prints, CFG).kind


def _p(
    price: str = "1.00",
    size: int = 10,
    venue: str = "XCBO",
    placement: Placement = "A",
    conditions: tuple[str, ...] = (),
    at_ms: float = 0,
) -> Placed:
    return placed(trade(at_ms, price, size, venue=venue, conditions=conditions), placement)


@pytest.mark.parametrize(
    ("prints", "kind", "side"),
    [
        pytest.param([_p(venue="XCBO"), _p(venue="XISE")], "sweep", "buy", id="sweep-two-venues"),
        pytest.param(
            [_p(venue="XCBO", placement="B"), _p(venue="XISE", placement="BB")], "sweep", "sell", id="sweep-sell"
        ),
        pytest.param(
            [_p(conditions=("iso",)), _p()],
            "sweep",
            "buy",
            id="sweep-one-venue-with-iso",
        ),
        pytest.param(
            [_p(size=80, venue="XCBO"), _p(size=20, venue="XISE", placement="B")],
            "sweep",
            "buy",
            id="sweep-exactly-80pct",
        ),
        pytest.param(
            [_p(size=79, venue="XCBO"), _p(size=21, venue="XISE", placement="B")],
            "single",
            "unknown",
            id="two-venues-79pct-not-sweep",
        ),
        pytest.param(
            [_p(size=80, venue="XCBO"), _p(size=20, venue="XISE", placement="MID")],
            "sweep",
            "buy",
            id="unknown-side-counts-against-ratio",
        ),
        pytest.param(
            [_p(size=79, venue="XCBO"), _p(size=21, venue="XISE", placement="MISSING")],
            "single",
            "unknown",
            id="unquoted-size-dilutes-side",
        ),
        pytest.param([_p(), _p(), _p()], "split", "buy", id="split-one-venue"),
        pytest.param(
            [_p(placement="A"), _p(placement="B")],
            "split",
            "unknown",
            id="split-mixed-sides",
        ),
        pytest.param(
            [_p(conditions=("iso",)), _p(placement="B", conditions=("iso",))],
            "split",
            "unknown",
            id="iso-mixed-sides-is-split",
        ),
        pytest.param([_p(size=500)], "block", "buy", id="block-500-contracts"),
        pytest.param([_p(size=499)], "single", "buy", id="499-contracts-single"),
        pytest.param([_p(price="25.00", size=100)], "block", "buy", id="block-premium-exactly-250k"),
        pytest.param([_p(price="2499.9999", size=1)], "single", "buy", id="premium-249999.99-single"),
        pytest.param([_p(size=1, conditions=("cross",))], "block", "buy", id="block-cross"),
        pytest.param([_p(size=1, conditions=("floor",))], "block", "buy", id="block-floor"),
        pytest.param([_p(size=1, conditions=("multi_leg",))], "single", "buy", id="multi-leg-single"),
        pytest.param([_p(size=1, conditions=("iso",))], "single", "buy", id="lone-iso-single"),
        pytest.param([_p(size=1)], "single", "buy", id="single"),
        pytest.param([_p(size=1, placement="MISSING")], "single", "unknown", id="single-unquoted"),
    ],
)
def test_kinds(prints: list[Placed], kind: str, side: str) -> None:
    packet = build_packet(prints, CFG)
    assert (packet.kind, packet.side) == (kind, side)


def test_block_thresholds_follow_settings() -> None:
    cfg = OptionsConfig(block_min_contracts=100, block_min_premium_usd=1_000)
    assert build_packet([_p(size=100)], cfg).kind == "block"
    assert build_packet([_p(price="10.00", size=1)], cfg).kind == "block"  # $1,000 premium
    assert build_packet([_p(price="9.99", size=1)], cfg).kind == "single"


# ---------------------------------------------------------------------------------------- features


def _joined(quotes: list[tuple[float, str, str]], prints: list[OptionPrint]) -> list[Placed]:
    join = NbboJoin(CFG.nbbo_max_age_ns, CFG.at_side_band)
    for at, bid, ask in quotes:
        join.on_quote(quote(at, bid, ask, bid_size=40, ask_size=150))
    return [join.on_print(p) for p in prints]


def _sweep() -> list[Placed]:
    return _joined(
        [(0, "1.00", "1.10")],
        [
            trade(10, "1.10", 200, venue="XCBO", conditions=("iso",)),
            trade(20, "1.10", 100, venue="XISE", conditions=("iso", "late")),
            trade(30, "1.12", 100, venue="XCBO"),
            trade(40, "1.05", 50, venue="XPHL"),
        ],
    )


def test_premium_uses_multiplier_from_reference_data() -> None:
    prints = _sweep()
    clusterer = PacketClusterer(CFG)
    clusterer.set_multiplier(CALL, 10)
    for p in prints:
        clusterer.add(p)
    (packet,) = clusterer.flush()
    # 1.10 x 200 + 1.10 x 100 + 1.12 x 100 + 1.05 x 50 = $494.50 per point; x10
    assert (packet.multiplier, packet.premium_cents) == (10, 494_500)
    assert build_packet(prints, CFG).premium_cents == 4_945_000, "print multiplier (100) without reference data"


def test_premium_rounds_half_up_to_cents() -> None:
    prints = [placed(trade(0, "0.005", 1)), placed(trade(1, "0.0049", 1))]
    assert build_packet(prints, CFG, multiplier=1).premium_cents == 1  # 0.0099 -> 1 cent
    assert build_packet(prints[:1], CFG, multiplier=1).premium_cents == 1  # 0.005 -> 1 cent (half up)
    assert build_packet(prints[1:], CFG, multiplier=1).premium_cents == 0  # 0.0049 -> 0


@pytest.mark.parametrize(
    ("fills", "vwap_e9"),
    [
        pytest.param([("1.00", 1), ("1.000000001", 1)], 1_000_000_001, id="half-rounds-up"),
        pytest.param([("1.00", 2), ("1.000000001", 1)], 1_000_000_000, id="third-rounds-down"),
        pytest.param([("1.00", 1), ("1.000000001", 2)], 1_000_000_001, id="two-thirds-rounds-up"),
        pytest.param([("1.10", 200), ("1.12", 100)], 1_106_666_667, id="weighted"),
        pytest.param([("2.50", 7)], 2_500_000_000, id="single"),
    ],
)
def test_vwap_rounds_to_nearest_tick(fills: list[tuple[str, int]], vwap_e9: int) -> None:
    prints = [placed(trade(i, price, size)) for i, (price, size) in enumerate(fills)]
    assert build_packet(prints, CFG).vwap_e9 == vwap_e9


@pytest.mark.parametrize(
    ("prices", "path", "low", "high"),
    [
        pytest.param(["1.00", "0.90", "1.05"], "rising", "0.90", "1.05", id="rising"),
        pytest.param(["1.05", "1.20", "1.00"], "falling", "1.00", "1.20", id="falling"),
        pytest.param(["1.00", "1.50", "1.00"], "flat", "1.00", "1.50", id="flat"),
    ],
)
def test_price_path(prices: list[str], path: str, low: str, high: str) -> None:
    packet = build_packet([placed(trade(i, price, 1)) for i, price in enumerate(prices)], CFG)
    assert (packet.price_path, packet.min_price_e9, packet.max_price_e9) == (path, price_e9(low), price_e9(high))
    assert (packet.first_price_e9, packet.last_price_e9) == (price_e9(prices[0]), price_e9(prices[-1]))


def test_sweep_features() -> None:
    prints = _sweep()
    packet = build_packet(prints, CFG)
    assert [p.placement for p in prints] == ["A", "A", "AA", "MID"]
    assert packet.kind == "sweep"
    assert packet.side == "buy"  # 400 of 450 = 89% bought
    assert (packet.print_count, packet.venue_count, packet.venues) == (4, 3, ("XCBO", "XISE", "XPHL"))
    assert (packet.size_contracts, packet.buy_size_contracts, packet.sell_size_contracts) == (450, 400, 0)
    assert packet.placement_counts == {"AA": 1, "A": 2, "MID": 1}
    assert packet.placement_sizes == {"AA": 100, "A": 300, "MID": 50}
    assert (packet.nbbo_coverage, packet.stale_ratio) == (1.0, 0.0)
    assert (packet.bid_e9, packet.ask_e9) == (price_e9("1.00"), price_e9("1.10"))
    assert (packet.bid_size_contracts, packet.ask_size_contracts) == (40, 150)
    assert packet.touch_size_ratio == pytest.approx(400 / 150)
    assert packet.conditions == ("iso", "late")
    assert packet.print_ids == tuple(p.print.id for p in prints)
    assert packet.id == derived_event_id("packet", packet.print_ids)
    assert (packet.complex_prints, packet.tick_test_prints, packet.late_prints) == (0, 0, 0)


def test_packet_id_is_deterministic() -> None:
    prints = _sweep()
    assert build_packet(prints, CFG).id == build_packet(list(prints), CFG).id
    assert build_packet(prints, CFG) == build_packet(prints, CFG)
    assert build_packet(prints[:3], CFG).id != build_packet(prints, CFG).id


def test_out_of_order_print_in_a_packet_does_not_crash() -> None:
    clusterer = PacketClusterer(CFG)
    _add_all(clusterer, [trade(100, "1.00", 1), trade(50, "1.00", 1, venue="XISE")])
    (packet,) = clusterer.flush()
    assert (packet.ts_first, packet.ts_last, packet.span_ns) == (ts(50), ts(100), 50 * NS_PER_MS)


def test_coverage_and_stale_ratio_by_size() -> None:
    prints = _joined(
        [(0, "1.00", "1.10")],
        [
            trade(1_400, "1.10", 30),  # fresh: A
            trade(1_450, "1.10", 50),  # fresh: A
            trade(1_501, "1.10", 20, venue="XISE"),  # 1,501 ms old: STALE
        ],
    )
    packet = build_packet(prints, CFG)
    assert packet.placement_sizes == {"A": 80, "STALE": 20}
    assert (packet.nbbo_coverage, packet.stale_ratio) == (0.8, 0.2)


def test_missing_and_crossed_are_not_coverage() -> None:
    prints = [
        placed(trade(0, "1.00", 10), "MISSING"),
        placed(trade(1, "1.00", 30), "CROSSED"),
        placed(trade(2, "1.00", 60), "B"),
    ]
    packet = build_packet(prints, CFG)
    assert (packet.nbbo_coverage, packet.stale_ratio) == (0.6, 0.0)
    assert (packet.bid_e9, packet.touch_size_ratio) == (None, None), "no quote at the first print"


@pytest.mark.parametrize(
    ("placements", "bid_size", "ask_size", "ratio"),
    [
        pytest.param(["A", "AA"], 40, 50, 20 / 50, id="buy-vs-ask-size"),
        pytest.param(["B", "BB"], 40, 50, 20 / 40, id="sell-vs-bid-size"),
        pytest.param(["A", "B"], 40, 50, None, id="unknown-side"),
        pytest.param(["A", "A"], 40, 0, None, id="no-displayed-ask"),
    ],
)
def test_touch_size_ratio(placements: list[Placement], bid_size: int, ask_size: int, ratio: float | None) -> None:
    q = Quote(ts(0), price_e9("1.00"), price_e9("1.10"), bid_size, ask_size)
    prints = [placed(trade(i, "1.05", 10), pl, quote=q) for i, pl in enumerate(placements)]
    assert build_packet(prints, CFG).touch_size_ratio == (None if ratio is None else pytest.approx(ratio))


def test_flags_counts_and_underlying_price() -> None:
    prints = [
        placed(
            trade_ns(ts(0), "1.00", 1, conditions=("multi_leg",), underlying_price="580.25"), "MID", complex_print=True
        ),
        placed(trade(1, "1.00", 1), "A", tick_test=True),
        placed(trade_ns(ts(2), "1.00", 1, underlying_price="580.40"), "B", late=True),
    ]
    packet = build_packet(prints, CFG)
    assert (packet.complex_prints, packet.tick_test_prints, packet.late_prints) == (1, 1, 1)
    assert packet.conditions == ("multi_leg",)
    # The price at the first print (a price stamped on a print is the provider's at the trade: a quote, age 0).
    assert packet.underlying_e9 == price_e9("580.25")
    assert (packet.underlying_source, packet.underlying_age_ms, packet.underlying_strike_e9) == ("quote", 0, None)
    assert (packet.buy_size_contracts, packet.sell_size_contracts) == (1, 1)


def test_the_underlying_price_is_looked_up_once_per_packet_at_its_opening_print() -> None:
    asked: list[int] = []

    def mark_of(fields: dict[str, Any]) -> UnderlyingMark:
        asked.append(fields["ts_event"])
        return UnderlyingMark(price_e9("501.23"), "implied", fields["ts_event"] - 400 * NS_PER_MS, price_e9("500"))

    clusterer = PacketClusterer(CFG, mark_of)
    closed = _add_all(clusterer, [trade(0, "1.00", 1), trade(50, "1.00", 1), trade(400, "1.00", 1)])
    closed += clusterer.flush()
    assert asked == [ts(0), ts(400)], "one lookup per packet, at the print that opened it"
    assert [(p.underlying_e9, p.underlying_source, p.underlying_age_ms, p.underlying_strike_e9) for p in closed] == [
        (price_e9("501.23"), "implied", 400, price_e9("500"))
    ] * 2


def test_packet_contract_fields_follow_the_prints() -> None:
    packet = build_packet([placed(trade(0, "3.00", 5, symbol=PUT))], CFG)
    assert (packet.symbol, packet.underlying, packet.root, packet.right, packet.strike_e9) == (
        PUT,
        "SPY",
        "SPY",
        "P",
        price_e9("570"),
    )


def test_next_deadline_is_the_first_open_packets_ignoring_superseded_ones() -> None:
    clusterer = PacketClusterer(CFG)
    assert clusterer.next_deadline_ns() is None
    _add_all(clusterer, [trade(0, "1.00", 1), trade(50, "1.00", 1), trade(20, "1.00", 1, symbol=PUT)])
    assert clusterer.next_deadline_ns() == ts(20) + GAP_NS, "the PUT's; the CALL's 0 ms deadline moved to 50 ms"
    assert clusterer.advance(ts(20) + GAP_NS + 1) != []
    assert clusterer.next_deadline_ns() == ts(50) + GAP_NS
    clusterer.flush()
    assert clusterer.next_deadline_ns() is None
