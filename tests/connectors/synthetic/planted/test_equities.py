"""The equity scenario library: dark labels and candle labels hold on the emitted tape, background included.

Every check here recomputes the truth from the events themselves (the consolidated quote in force at each
print, its conditions, the whole off-exchange tape of the underlying), with the rules of BEHAVIOR sections 2,
8 and 9 written out again, not with the library's own reference functions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import cache

import pytest

from connectors.synthetic import SyntheticConfig, SyntheticMarket
from connectors.synthetic.planted.equity_truth import (
    DARK_CLASSIFIERS,
    DARK_HARD_NEGATIVES,
    DARK_SCENARIOS,
    CandleLabel,
    DarkLabel,
)
from events.config import EquitiesConfig
from events.lots import round_lot_at
from events.models import EquityPrint, EquityQuote, OptionNbbo, OptionPrint, RawEvent
from events.units import NS_PER_MS, NS_PER_S, notional_cents

RULES = EquitiesConfig.model_construct()
EXCLUDED = frozenset(
    {
        "odd_lot",
        "average_price",
        "derivatively_priced",
        "late",
        "out_of_sequence",
        "prior_reference_price",
        "contingent",
        "qct",
        "cash_settlement",
        "next_day_settlement",
        "seller_settlement",
    }
)
"""BEHAVIOR section 8: prints outside the size rules (and, with extended hours, outside the last sale)."""
DEFAULT_SECONDS = 300.0
PLANT_EVERY_S = 2.0


@dataclass(frozen=True)
class Joined:
    """An equity print with the consolidated quote in force at it (latest with ts_event <= the print's)."""

    event: EquityPrint
    bid_e9: int
    ask_e9: int
    quote_ts: int

    @property
    def placement(self) -> str:
        p, bid, ask = self.event.price_e9, self.bid_e9, self.ask_e9
        if self.event.ts_event - self.quote_ts > RULES.equity_quote_max_age_ms * NS_PER_MS:
            return "STALE"
        assert bid < ask, "synthetic quotes are never locked or crossed"
        band = (ask - bid) * RULES.equity_at_side_band
        if p > ask:
            return "AA"
        if p < bid:
            return "BB"
        if p >= ask - band:
            return "A"
        if p <= bid + band:
            return "B"
        return "MID"

    @property
    def size_eligible(self) -> bool:
        e = self.event
        return not (set(e.conditions) & EXCLUDED) and e.size_shares >= round_lot_at(e.price_e9, e.ts_event)

    @property
    def side(self) -> str:
        return {"AA": "buy", "A": "buy", "B": "sell", "BB": "sell"}.get(self.placement, "unknown")

    @property
    def absorbed(self) -> bool:
        e = self.event
        mid2 = self.bid_e9 + self.ask_e9
        return (
            e.off_exchange
            and self.size_eligible
            and self.placement == "MID"
            and e.size_shares >= RULES.dark_block_min_shares
            and notional_cents(e.price_e9, e.size_shares) >= RULES.dark_min_block_usd * 100
            and (self.ask_e9 - self.bid_e9) * 200 / mid2 <= RULES.dark_max_spread_pct
        )

    @property
    def counted(self) -> bool:
        e = self.event
        return (
            e.off_exchange
            and self.size_eligible
            and e.size_shares >= RULES.stealth_min_print_shares
            and self.side != "unknown"
        )


@dataclass(frozen=True)
class Session:
    config: SyntheticConfig
    events: tuple[RawEvent, ...]
    dark: tuple[DarkLabel, ...]
    candles: tuple[CandleLabel, ...]
    joined: dict[str, Joined]
    """Every equity print id -> the print joined to its quote."""
    inferences: tuple[tuple[str, str, tuple[str, ...]], ...]
    """(kind, underlying, evidence ids) the rules of BEHAVIOR section 8 draw from the whole equity tape."""

    def of(self, scenario: str) -> list[DarkLabel]:
        return [label for label in self.dark if label.scenario == scenario]


def infer(prints: list[Joined]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Run absorbed-block and stealth rules over every print in order, with windows and cooldowns."""
    window_ns = RULES.stealth_window_ms * NS_PER_MS
    cooldown_ns = RULES.stealth_cooldown_ms * NS_PER_MS
    out: list[tuple[str, str, tuple[str, ...]]] = []
    windows: dict[tuple[str, str], list[Joined]] = defaultdict(list)
    fired: dict[tuple[str, str], int] = {}
    for j in prints:
        e = j.event
        if j.absorbed:
            out.append(("absorbed_block", e.symbol, (e.id,)))
        if not j.counted:
            continue
        key = (e.symbol, j.side)
        window = [w for w in windows[key] if w.event.ts_event >= e.ts_event - window_ns] + [j]
        windows[key] = window
        kind = "stealth_accumulation" if j.side == "buy" else "distribution"
        enough = len(window) >= RULES.stealth_min_prints
        if not enough or sum(w.event.size_shares for w in window) < RULES.stealth_min_total_shares:
            continue
        last = fired.get((e.symbol, kind))
        if last is not None and e.ts_event - last < cooldown_ns:
            continue
        fired[e.symbol, kind] = e.ts_event
        out.append((kind, e.symbol, tuple(w.event.id for w in window)))
    return out


@cache
def session(seconds: float = DEFAULT_SECONDS, seed: int = 7) -> Session:
    """The default evaluation session: 300 s, a scenario every 2 s per underlying."""
    config = SyntheticConfig(seed=seed, duration_s=seconds, plant_every_s=PLANT_EVERY_S)
    market = SyntheticMarket(config)
    events = tuple(market.events())
    quotes: dict[str, EquityQuote] = {}
    joined: dict[str, Joined] = {}
    for e in events:
        if isinstance(e, EquityQuote):
            quotes[e.symbol] = e
        elif isinstance(e, EquityPrint):
            q = quotes[e.symbol]
            joined[e.id] = Joined(e, q.bid_e9, q.ask_e9, q.ts_event)
    inferences = tuple(infer(list(joined.values())))
    return Session(config, events, tuple(market.dark_labels), tuple(market.candle_labels), joined, inferences)


def prints_of(s: Session, label: DarkLabel) -> list[Joined]:
    return [s.joined[i] for i in label.print_ids]


# ----------------------------------------------------------------------------------------- counts


def test_default_session_plants_every_kind_often_enough() -> None:
    s = session()
    counts = Counter(label.scenario for label in s.dark)
    expected = Counter(c for label in s.dark for c in label.expected_classifiers)
    assert all(expected[c] >= 10 for c in DARK_CLASSIFIERS), expected
    assert set(counts) == set(DARK_SCENARIOS), counts
    assert all(counts[name] >= 2 for name in DARK_HARD_NEGATIVES), counts
    assert sum(label.hard_negative for label in s.dark) >= 100
    per_underlying = Counter(label.underlying for label in s.candles)
    assert set(per_underlying) == set(s.config.underlyings)
    assert min(per_underlying.values()) >= DEFAULT_SECONDS / 30, "a candle probe per underlying every 30 s or so"


def test_labels_are_consistent() -> None:
    s = session()
    assert list(s.dark) == sorted(s.dark, key=lambda label: (label.ts_start, label.symbol))
    for label in s.dark:
        assert set(label.expected_classifiers) | set(label.forbidden_classifiers) == set(DARK_CLASSIFIERS)
        assert not set(label.expected_classifiers) & set(label.forbidden_classifiers)
        assert label.hard_negative == (not label.expected_classifiers) == (label.scenario in DARK_HARD_NEGATIVES)
        assert label.symbol == label.underlying
        prints = prints_of(s, label)
        assert [j.event.symbol for j in prints] == [label.underlying] * len(prints)
        assert (prints[0].event.ts_event, prints[-1].event.ts_event) == (label.ts_start, label.ts_end)
        assert label.facts.prints == len(prints)
        assert label.facts.shares == sum(j.event.size_shares for j in prints)
        direction = {
            ("absorbed_block",): "neutral",
            ("stealth_accumulation",): "bullish",
            ("distribution",): "bearish",
            (): None,
        }[label.expected_classifiers]
        assert label.expected_direction == direction
    ids = [i for label in s.dark for i in label.print_ids]
    assert len(ids) == len(set(ids)), "a print belongs to one label"


# ---------------------------------------------------------------------------------- ground truth


def test_labels_are_ground_truth_on_the_whole_tape() -> None:
    """Every inference the rules draw from the whole tape (background included) meets labels as they say."""
    s = session()
    labels_of: dict[str, DarkLabel] = {i: label for label in s.dark for i in label.print_ids}
    hit: dict[int, set[str]] = defaultdict(set)
    for kind, _, evidence in s.inferences:
        met = {id(labels_of[i]): labels_of[i] for i in evidence if i in labels_of}
        for label in met.values():
            assert kind not in label.forbidden_classifiers, (kind, label)
            hit[id(label)].add(kind)
    for label in s.dark:
        assert hit[id(label)] == set(label.expected_classifiers), label


def test_only_planted_runs_are_counted_by_the_stealth_rules() -> None:
    s = session()
    planted = {i for label in s.dark for i in label.print_ids}
    counted = [j for j in s.joined.values() if j.counted]
    assert counted
    assert all(j.event.id in planted for j in counted), "background never adds to a stealth window"
    stealth = [evidence for kind, _, evidence in s.inferences if kind != "absorbed_block"]
    assert all(set(evidence) <= planted for evidence in stealth)
    background_blocks = [e for kind, _, e in s.inferences if kind == "absorbed_block" and e[0] not in planted]
    assert not background_blocks, "blocks are planted: background off-exchange prints stay under 2,000 shares"


def test_each_positive_run_fires_once_at_its_trigger() -> None:
    s = session()
    for label in s.dark:
        if label.expected_classifiers in (("stealth_accumulation",), ("distribution",)):
            fired = [e for k, _, e in s.inferences if k in label.expected_classifiers and set(e) & set(label.print_ids)]
            assert len(fired) == 1, label
            assert fired[0][-1] == label.facts.trigger_print_id
            assert set(fired[0]) <= set(label.print_ids)
        elif label.scenario == "absorbed_block":
            assert label.facts.trigger_print_id == label.print_ids[0]
        else:
            assert label.facts.trigger_print_id is None


def test_absorbed_blocks_meet_every_clause() -> None:
    s = session()
    for label in s.of("absorbed_block"):
        (j,) = prints_of(s, label)
        e = j.event
        assert e.off_exchange
        assert e.venue == "FINRA"
        assert not e.conditions
        assert j.placement == "MID"
        assert e.price_e9 * 2 == j.bid_e9 + j.ask_e9
        assert e.ts_event - j.quote_ts <= RULES.equity_quote_max_age_ms * NS_PER_MS
        assert (j.ask_e9 - j.bid_e9) * 200 / (j.bid_e9 + j.ask_e9) <= RULES.dark_max_spread_pct
        assert e.size_shares >= RULES.dark_block_min_shares
        assert notional_cents(e.price_e9, e.size_shares) >= RULES.dark_min_block_usd * 100
    sizes = {prints_of(s, label)[0].event.size_shares for label in s.of("absorbed_block")}
    assert len(sizes) >= 20, "sizes vary"
    assert max(sizes) >= 10_000


@pytest.mark.parametrize(
    ("scenario", "missed"),
    [
        pytest.param("lit_block", "off_exchange", id="lit"),
        pytest.param("stale_quote_block", "fresh", id="stale"),
        pytest.param("wide_spread_block", "spread", id="wide"),
        pytest.param("block_near_miss", "size", id="near-miss"),
        pytest.param("ineligible_block", "eligible", id="ineligible"),
    ],
)
def test_block_hard_negatives_miss_exactly_one_clause(scenario: str, missed: str) -> None:
    s = session()
    labels = s.of(scenario)
    assert labels
    for label in labels:
        (j,) = prints_of(s, label)
        e = j.event
        mid2 = j.bid_e9 + j.ask_e9
        clauses = {
            "off_exchange": e.off_exchange,
            "fresh": e.ts_event - j.quote_ts <= RULES.equity_quote_max_age_ms * NS_PER_MS,
            "mid": e.price_e9 * 2 == mid2,
            "spread": (j.ask_e9 - j.bid_e9) * 200 / mid2 <= RULES.dark_max_spread_pct,
            "size": e.size_shares >= RULES.dark_block_min_shares
            and notional_cents(e.price_e9, e.size_shares) >= RULES.dark_min_block_usd * 100,
            "eligible": j.size_eligible,
        }
        assert [name for name, ok in clauses.items() if not ok] == [missed], (label, clauses)
        assert not j.absorbed
        assert label.forbidden_classifiers == DARK_CLASSIFIERS
    if scenario == "lit_block":
        assert len({prints_of(s, label)[0].event.venue for label in labels}) >= 5
    if scenario == "ineligible_block":
        flags = {flag for label in labels for flag in prints_of(s, label)[0].event.conditions}
        assert "average_price" in flags
        assert len(flags) >= 4


def _counted(prints: list[Joined], side: str) -> list[Joined]:
    return [j for j in prints if j.counted and j.side == side]


def test_stealth_runs_count_as_labeled() -> None:
    s = session()
    window_ns = RULES.stealth_window_ms * NS_PER_MS
    for label in s.dark:
        if label.expected_kind != "split":
            continue
        prints = prints_of(s, label)
        assert all(j.event.off_exchange and j.placement != "STALE" for j in prints)
        buy, sell = _counted(prints, "buy"), _counted(prints, "sell")
        assert (label.facts.buy_counted, label.facts.sell_counted) == (len(buy), len(sell))
        if label.scenario in ("stealth_accumulation", "distribution"):
            side = "buy" if label.scenario == "stealth_accumulation" else "sell"
            run = _counted(prints, side)
            assert len(run) == len(prints)
            assert not _counted(prints, "sell" if side == "buy" else "buy")
            first_four = run[: RULES.stealth_min_prints]
            assert first_four[-1].event.ts_event - first_four[0].event.ts_event < window_ns
            assert sum(j.event.size_shares for j in first_four) >= RULES.stealth_min_total_shares
        elif label.scenario == "three_print_run":
            assert max(len(buy), len(sell)) == RULES.stealth_min_prints - 1
            assert min(len(buy), len(sell)) == 0
            assert sum(j.event.size_shares for j in buy + sell) >= RULES.stealth_min_total_shares
        elif label.scenario in ("small_print_run", "odd_lot_run"):
            assert max(len(buy), len(sell)) < RULES.stealth_min_prints
            sided = [j for j in prints if j.side != "unknown"]
            assert len(sided) >= RULES.stealth_min_prints, "enough prints on the side if the small ones counted"
            small = [j for j in prints if not j.counted]
            if label.scenario == "odd_lot_run":
                assert all("odd_lot" in j.event.conditions and not j.size_eligible for j in small)
            else:
                assert all(j.event.size_shares < RULES.stealth_min_print_shares and j.size_eligible for j in small)
        elif label.scenario == "mixed_side_run":
            assert len(buy) + len(sell) >= RULES.stealth_min_prints
            assert 0 < len(buy) < RULES.stealth_min_prints
            assert 0 < len(sell) < RULES.stealth_min_prints


def test_cooldown_runs_would_fire_but_for_the_cooldown() -> None:
    s = session()
    labels = s.of("cooldown_run")
    assert labels
    for label in labels:
        prints = prints_of(s, label)
        side = "buy" if label.side == "buy" else "sell"
        assert len(_counted(prints, side)) == len(prints) >= RULES.stealth_min_prints
        assert sum(j.event.size_shares for j in prints) >= RULES.stealth_min_total_shares, "a complete run itself"
        kind = "stealth_accumulation" if side == "buy" else "distribution"
        earlier = [
            e for k, u, e in s.inferences if k == kind and u == label.underlying and s.joined[e[-1]].event.ts_event
            < label.ts_start
        ]  # fmt: skip
        last = s.joined[earlier[-1][-1]].event.ts_event
        assert label.ts_end - last < RULES.stealth_cooldown_ms * NS_PER_MS, "all of it inside the cooldown"
        assert label.forbidden_classifiers == DARK_CLASSIFIERS


# ---------------------------------------------------------------------------------------- candles


def test_candle_labels_are_exactly_their_windows() -> None:
    s = session()
    by_symbol: dict[str, list[Joined]] = defaultdict(list)
    for j in s.joined.values():
        by_symbol[j.event.symbol].append(j)
    dark_ids = {i for label in s.dark for i in label.print_ids}
    discriminating = 0
    for label in s.candles:
        assert label.interval_ms == 1000
        assert label.ts_start % NS_PER_S == 0
        assert label.ts_end == label.ts_start + NS_PER_S
        window = [j.event for j in by_symbol[label.underlying] if label.ts_start <= j.event.ts_event < label.ts_end]
        assert tuple(e.id for e in window) == label.print_ids, "no background print in a probe window"
        assert not set(label.print_ids) & dark_ids
        eligible = [
            e for e in window if not set(e.conditions) & (EXCLUDED | {"extended_hours"})
            and e.size_shares >= round_lot_at(e.price_e9, e.ts_event)
        ]  # fmt: skip
        ineligible = [e for e in window if e not in eligible]
        assert {e.id for e in ineligible} == set(label.ineligible_print_ids)
        assert {"odd_lot", "average_price"} <= {flag for e in ineligible for flag in e.conditions}
        prices = [e.price_e9 for e in eligible]
        assert (label.open_e9, label.high_e9, label.low_e9, label.close_e9) == (
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
        )
        assert label.volume_shares == sum(e.size_shares for e in window)
        assert ineligible[0].ts_event < eligible[0].ts_event
        assert ineligible[-1].ts_event > eligible[-1].ts_event
        discriminating += all(not label.low_e9 <= e.price_e9 <= label.high_e9 for e in ineligible)
    assert discriminating >= 0.95 * len(s.candles), "ineligible prints would move the candle if counted"


# ------------------------------------------------------------------------------ options untouched


def _options(config: SyntheticConfig) -> tuple[list[dict[str, object]], list[tuple[object, ...]]]:
    market = SyntheticMarket(config)
    events: list[dict[str, object]] = []
    index: dict[str, int] = {}
    for e in market.events():
        if isinstance(e, EquityPrint | EquityQuote):
            continue
        index[e.id] = len(events)
        events.append(e.model_dump(exclude={"id", "sequence", "ts_recv"}))
    labels: list[tuple[object, ...]] = [
        (label.scenario, label.symbol, label.ts_start, label.expected_classifiers, label.forbidden_classifiers,
         label.description, tuple(index[i] for i in label.print_ids))
        for label in market.labels
    ]  # fmt: skip
    return events, labels


@pytest.mark.parametrize("profile", ["realistic", "firehose"])
def test_equity_scenarios_leave_the_options_stream_alone(profile: str) -> None:
    config = SyntheticConfig(profile=profile, duration_s=30.0 if profile == "realistic" else 4.0, plant_every_s=2.0)  # type: ignore[arg-type]
    with_equities = _options(config)
    without = _options(replace(config, equity_scenarios=False))
    assert with_equities == without
    assert with_equities[1], "options scenarios were planted"


def test_without_equity_scenarios_nothing_is_held_or_labeled() -> None:
    config = SyntheticConfig(duration_s=20.0, plant_every_s=2.0, equity_scenarios=False)
    market = SyntheticMarket(config)
    events = list(market.events())
    assert not market.dark_labels
    assert not market.candle_labels
    assert sum(isinstance(e, EquityPrint) for e in events) > 500
    assert any(isinstance(e, OptionPrint | OptionNbbo) for e in events)


def test_equity_labels_are_deterministic() -> None:
    config = SyntheticConfig(duration_s=40.0, plant_every_s=2.0)
    first, second = SyntheticMarket(config), SyntheticMarket(config)
    a = [e.id for e in first.events()]
    b = [e.id for e in second.events()]
    assert a == b
    assert first.dark_labels == second.dark_labels
    assert first.candle_labels == second.candle_labels
    assert first.dark_labels
    assert first.candle_labels
