"""The synthetic market: determinism, tape invariants, planted ground truth, profiles and pacing."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from itertools import pairwise, takewhile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.settings import Settings
from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket, iter_paced
from connectors.synthetic.build import check_builders
from connectors.synthetic.chains import (
    E9_PER_CENT,
    KNOWN_SPECS,
    PACKET_GAP_NS,
    build_chain,
    expiries,
)
from connectors.synthetic.market import DEFAULT_START_TS
from connectors.synthetic.pacing import MIN_SLEEP_S
from connectors.synthetic.planted.library import SCENARIOS
from connectors.synthetic.planted.script import ISOLATION_NS, SAME_CONTRACT_GAP_NS
from connectors.synthetic.venues import EQUITY_VENUES, OPTION_VENUES, Venue, weighted_table
from events.calendar import BUCKET_NS, close_ns, open_ns, session_date
from events.ids import raw_event_id
from events.models import (
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    RawEvent,
    VolumeBaseline,
)
from events.serde import decode, encode
from events.symbology import parse_occ
from events.topics import topic_for
from events.units import NS_PER_MS, NS_PER_S, notional_cents

PROFILES = ("realistic", "active", "firehose")
# Long enough for each profile to plant several scenarios, short enough to keep the events in memory.
DURATION_S = {"realistic": 60.0, "active": 12.0, "firehose": 4.0}
PENNY_E9 = 10_000_000


@dataclass(frozen=True)
class Session:
    config: SyntheticConfig
    events: tuple[RawEvent, ...]
    labels: tuple[PlantedLabel, ...]
    quote_at_print: dict[str, OptionNbbo]
    """The consolidated quote in force (latest with ts_event <= the print's) for each option print id."""


@cache
def session(profile: str) -> Session:
    config = SyntheticConfig(profile=profile, duration_s=DURATION_S[profile])  # type: ignore[arg-type]
    market = SyntheticMarket(config)
    events = tuple(market.events())
    latest: dict[str, OptionNbbo] = {}
    quote_at_print: dict[str, OptionNbbo] = {}
    for event in events:
        if isinstance(event, OptionNbbo):
            latest[event.symbol] = event
        elif isinstance(event, OptionPrint) and event.symbol in latest:
            quote_at_print[event.id] = latest[event.symbol]
    return Session(config, events, tuple(market.labels), quote_at_print)


def market_events(s: Session) -> list[OptionNbbo | OptionPrint | EquityQuote | EquityPrint]:
    return [e for e in s.events if isinstance(e, OptionNbbo | OptionPrint | EquityQuote | EquityPrint)]


def stream_digest(config: SyntheticConfig) -> tuple[str, list[PlantedLabel]]:
    market = SyntheticMarket(config)
    digest = hashlib.sha256()
    for event in market.events():
        digest.update(encode(event))
        digest.update(b"\n")
    return digest.hexdigest(), market.labels


def prints_of(s: Session, label: PlantedLabel) -> list[OptionPrint]:
    wanted = set(label.print_ids)
    return [e for e in s.events if isinstance(e, OptionPrint) and e.id in wanted]


# ------------------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes_and_labels() -> None:
    config = SyntheticConfig(duration_s=20.0)
    first = stream_digest(config)
    second = stream_digest(config)
    assert first == second
    assert first[1], "a 20 s realistic session plants scenarios"


def test_same_seed_gives_identical_bytes_in_other_processes() -> None:
    script = (
        "import hashlib\n"
        "from connectors.synthetic import SyntheticConfig, SyntheticMarket\n"
        "from events.serde import encode\n"
        "d = hashlib.sha256()\n"
        "for e in SyntheticMarket(SyntheticConfig(duration_s=5.0)).events():\n"
        "    d.update(encode(e) + b'\\n')\n"
        "print(d.hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {stream_digest(SyntheticConfig(duration_s=5.0))[0]}


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(SyntheticConfig(seed=8, duration_s=5.0), id="seed"),
        pytest.param(SyntheticConfig(profile="active", duration_s=5.0), id="profile"),
    ],
)
def test_different_config_gives_different_stream(other: SyntheticConfig) -> None:
    base_digest, base_labels = stream_digest(SyntheticConfig(duration_s=5.0))
    digest, labels = stream_digest(other)
    assert digest != base_digest
    if other.profile == "realistic":
        assert labels != base_labels


def test_events_can_be_replayed_from_one_market() -> None:
    market = SyntheticMarket(SyntheticConfig(duration_s=5.0))
    first = [encode(e) for e in market.events()]
    labels = market.labels
    assert [encode(e) for e in market.events()] == first
    assert market.labels == labels


def test_a_market_that_keeps_no_truth_gives_the_same_tape_and_refuses_labels() -> None:
    config = SyntheticConfig(duration_s=20.0)
    truthful = SyntheticMarket(config)
    tape = [encode(e) for e in truthful.events()]
    assert truthful.labels, "a 20 s realistic session plants options scenarios"
    assert truthful.dark_labels, "and off-exchange ones"
    tape_only = SyntheticMarket(config, keep_truth=False)
    assert [encode(e) for e in tape_only.events()] == tape
    for read in ("labels", "dark_labels", "candle_labels"):
        with pytest.raises(RuntimeError, match="keep_truth=False"):
            getattr(tape_only, read)


def test_refdata_matches_the_head_of_the_stream() -> None:
    market = SyntheticMarket(SyntheticConfig(duration_s=1.0))
    refdata = market.refdata()
    head = list(takewhile(lambda e: isinstance(e, OptionDefinition | OpenInterest | VolumeBaseline), market.events()))
    assert head == refdata
    assert refdata == market.refdata()


# ------------------------------------------------------------------------------------------ tape


@pytest.mark.parametrize("profile", PROFILES)
def test_events_are_in_event_time_with_increasing_sequence(profile: str) -> None:
    s = session(profile)
    assert all(a.ts_event <= b.ts_event for a, b in pairwise(s.events))
    events = market_events(s)
    assert all(a.sequence < b.sequence for a, b in pairwise(events))
    assert all(s.config.start_ts <= e.ts_event < s.config.end_ts for e in s.events)


@pytest.mark.parametrize("profile", PROFILES)
def test_ids_are_unique_and_derive_from_provider_identity(profile: str) -> None:
    s = session(profile)
    ids = [e.id for e in s.events]
    assert len(ids) == len(set(ids))
    events = market_events(s)
    for event in events[:: max(1, len(events) // 500)]:
        expected = raw_event_id("synthetic", topic_for(event.event_type), event.symbol, event.ts_event, event.sequence)
        assert event.id == expected


def test_half_the_contracts_have_volume_history_scaled_to_the_profile() -> None:
    baselines: dict[str, dict[str, VolumeBaseline]] = {}
    contracts = 0
    for profile in ("realistic", "active"):
        refdata = SyntheticMarket(SyntheticConfig(duration_s=1.0, profile=profile)).refdata()
        contracts = sum(isinstance(e, OptionDefinition) for e in refdata)
        baselines[profile] = {e.subject: e for e in refdata if isinstance(e, VolumeBaseline)}
    realistic, active = baselines["realistic"], baselines["active"]
    assert 0.4 < len(realistic) / contracts < 0.6
    assert set(realistic) == set(active)  # the same contracts, ten times the volume
    previous = session_date(DEFAULT_START_TS - 86_400 * NS_PER_S * 3)  # the start is a Monday: Friday's close
    for symbol, b in realistic.items():
        assert (b.scope, b.subject, b.sessions, b.as_of) == ("contract", symbol, 30, previous)
        assert len(b.bucket_volume_mean) == 78
        assert b.bucket_volume_mean[0] > b.bucket_volume_mean[39] < b.bucket_volume_mean[77]  # a U-shaped day
        assert b.day_volume_mean == pytest.approx(sum(b.bucket_volume_mean), abs=1e-3)
        assert active[symbol].day_volume_mean == pytest.approx(10 * b.day_volume_mean, rel=1e-4, abs=0.05)  # rounding
        assert type(b).model_validate(b.model_dump()) == b
    assert len({b.id for b in realistic.values()}) == len(realistic)


def test_contracts_count_the_five_minute_volume_the_engine_can_see() -> None:
    (contract, *_) = build_chain(KNOWN_SPECS["SPY"], DEFAULT_START_TS, 0, random.Random(1))
    contract.session_open_ns = opened = open_ns(session_date(DEFAULT_START_TS))
    boundary = opened + BUCKET_NS
    contract.record_print(boundary - 2 * PACKET_GAP_NS, 7)  # its own packet, in bucket 0
    contract.record_print(boundary - PACKET_GAP_NS // 2, 10)  # may share a packet with the next print
    assert (contract.bucket, contract.bucket_volume, contract.bucket_carry) == (0, 17, 0)
    contract.record_print(boundary + PACKET_GAP_NS // 4, 5)
    assert (contract.bucket, contract.bucket_volume, contract.bucket_carry) == (1, 5, 10)
    contract.record_print(boundary + 2 * BUCKET_NS, 3)  # two buckets on, after a long gap: nothing carries
    assert (contract.bucket, contract.bucket_volume, contract.bucket_carry) == (3, 3, 0)
    assert (contract.volume, contract.prints) == (25, 4)
    contract.record_print(opened + 78 * BUCKET_NS, 4)  # 16:00: outside the regular session
    assert contract.bucket == -1


def test_refdata_ids_follow_the_global_sequence() -> None:
    s = session("realistic")
    refdata = [e for e in s.events if isinstance(e, OptionDefinition | OpenInterest)]
    for seq, event in enumerate(refdata, start=1):
        assert event.id == raw_event_id("synthetic", "refdata.options", event.symbol, event.ts_event, seq)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_option_print_has_a_quote_in_force(profile: str) -> None:
    s = session(profile)
    prints = [e for e in s.events if isinstance(e, OptionPrint)]
    stale = {i for label in s.labels if label.scenario == "stale_quotes" for i in label.print_ids}
    assert prints
    for p in prints:
        quote = s.quote_at_print.get(p.id)
        assert quote is not None, p
        assert quote.ts_event <= p.ts_event
        if p.id not in stale:  # the stale-quote hard negative trades against an old quote on purpose
            assert p.ts_event - quote.ts_event <= 1_500 * NS_PER_MS, "quotes are refreshed before printing"


@pytest.mark.parametrize("profile", PROFILES)
def test_quotes_are_never_crossed_and_on_ticks(profile: str) -> None:
    s = session(profile)
    for e in s.events:
        if isinstance(e, OptionNbbo | EquityQuote):
            assert 0 <= e.bid_e9 < e.ask_e9, e
            assert e.bid_e9 % PENNY_E9 == 0, e
            assert e.ask_e9 % PENNY_E9 == 0, e
            assert e.venue == "NBBO"
        if isinstance(e, OptionNbbo) and e.symbol.startswith(("AAPL", "NVDA", "TSLA")) and e.ask_e9 > 3_000_000_000:
            # Nickel increments at $3 and above outside the penny-everywhere classes (SPY, QQQ).
            assert e.ask_e9 % (5 * PENNY_E9) == 0, e


def test_every_event_type_appears_and_round_trips() -> None:
    s = session("realistic")
    by_type: dict[str, list[RawEvent]] = defaultdict(list)
    for e in s.events:
        by_type[e.event_type].append(e)
    assert set(by_type) == {
        "option_definition",
        "open_interest",
        "volume_baseline",
        "option_nbbo",
        "option_print",
        "equity_quote",
        "equity_print",
    }
    for events in by_type.values():
        for event in (events[0], events[len(events) // 2], events[-1]):
            assert decode(topic_for(event.event_type), encode(event)) == event
            assert type(event).model_validate(event.model_dump()) == event


def test_background_option_prints_look_like_the_tape() -> None:
    s = session("realistic")
    planted = {i for label in s.labels for i in label.print_ids}
    prints = [e for e in s.events if isinstance(e, OptionPrint) and e.id not in planted]
    sizes = sorted(p.size_contracts for p in prints)
    assert sizes[len(sizes) // 2] <= 5, "mostly small lots"
    assert sizes[-1] >= 50, "a heavy tail"
    assert all(p.size_contracts <= 300 or p.price_e9 <= 10 * E9_PER_CENT for p in prints), "large lots are cheap"
    # Premium stays unremarkable: the order budget.
    assert max(p.price_e9 * p.size_contracts for p in prints) <= 15_000 * 10**7 + 600 * 10 * E9_PER_CENT
    assert len({p.venue for p in prints}) >= 15
    assert {p.venue for p in prints} <= {v.code for v in OPTION_VENUES}
    flagged = Counter(flag for p in prints for flag in p.conditions)
    assert sum(1 for p in prints if not p.conditions) / len(prints) > 0.85
    assert {"iso", "multi_leg"} <= set(flagged)
    where = Counter()
    for p in prints:
        quote = s.quote_at_print[p.id]
        if p.price_e9 > quote.ask_e9 or p.price_e9 < quote.bid_e9:
            where["through"] += 1
        elif p.price_e9 in (quote.bid_e9, quote.ask_e9):
            where["touch"] += 1
        else:
            where["inside"] += 1
        assert p.multiplier == 100
        assert p.underlying_e9 is None, "as on a real tape: the engine reads the equity quotes instead"
    assert where["touch"] > where["inside"] > where["through"] > 0, where


def test_equity_tape_mixes_lit_and_off_exchange() -> None:
    s = session("realistic")
    prints = [e for e in s.events if isinstance(e, EquityPrint)]
    volume = Counter[bool]()
    for p in prints:
        volume[p.off_exchange] += p.size_shares
        if p.off_exchange:
            assert (p.venue, p.venue_id) == ("FINRA", "TRF")
        else:
            assert p.venue != "FINRA"
            assert p.price_e9 % (PENNY_E9 // 2) == 0
    share = volume[True] / (volume[True] + volume[False])
    assert 0.3 <= share <= 0.5
    assert any(p.off_exchange and p.price_e9 % PENNY_E9 for p in prints), "sub-penny off-exchange prints"
    assert len({p.venue for p in prints if not p.off_exchange}) >= 8


@pytest.mark.parametrize(
    ("symbol", "low", "high"),
    [
        pytest.param("SPY", 560, 600, id="SPY"),
        pytest.param("QQQ", 480, 520, id="QQQ"),
        pytest.param("AAPL", 220, 240, id="AAPL"),
        pytest.param("NVDA", 125, 155, id="NVDA"),
        pytest.param("TSLA", 320, 380, id="TSLA"),
    ],
)
def test_spot_walks_near_its_start(symbol: str, low: int, high: int) -> None:
    quotes = [e for e in session("realistic").events if isinstance(e, EquityQuote) and e.symbol == symbol]
    assert len(quotes) > 100
    assert all(low * 10**9 <= q.bid_e9 <= high * 10**9 for q in quotes)
    assert len({q.bid_e9 for q in quotes}) > 3, "the price moves"


@settings(max_examples=300, deadline=None)
@given(
    theo=st.floats(min_value=0.0, max_value=150.0, allow_nan=False),
    widen=st.floats(min_value=0.0, max_value=0.999),
    symbol=st.sampled_from(sorted(KNOWN_SPECS)),
)
def test_model_quotes_are_uncrossed_and_on_their_increments(theo: float, widen: float, symbol: str) -> None:
    contract = build_chain(KNOWN_SPECS[symbol], DEFAULT_START_TS, 0, random.Random(1))[0]
    bid, ask = contract.quote_cents(theo, widen)
    assert 0 <= bid < ask
    for price in (bid, ask):
        assert price < 300 or price % contract.tick_cents_above_3 == 0
    assert bid / 100 <= theo <= ask / 100 or bid == 0


def test_builders_match_the_contracts() -> None:
    check_builders.__wrapped__()


@pytest.mark.parametrize(
    "venues", [pytest.param(OPTION_VENUES, id="options"), pytest.param(EQUITY_VENUES, id="equities")]
)
def test_venue_tables_follow_the_weights(venues: tuple[Venue, ...]) -> None:
    table = weighted_table(venues, 4096)
    assert len(table) == 4096
    counts = Counter(v.code for v in table)
    total = sum(v.weight for v in venues)
    for venue in venues:
        assert counts[venue.code] / 4096 == pytest.approx(venue.weight / total, abs=0.001)


# --------------------------------------------------------------------------------------- refdata


def test_refdata_lists_each_contract_once_with_open_interest() -> None:
    config = SyntheticConfig()
    refdata = SyntheticMarket(config).refdata()
    definitions = [e for e in refdata if isinstance(e, OptionDefinition)]
    interest = [e for e in refdata if isinstance(e, OpenInterest)]
    assert [d.symbol for d in definitions] == [o.symbol for o in interest]
    assert len({d.symbol for d in definitions}) == len(definitions)
    assert all(e.ts_event == config.start_ts for e in refdata)
    assert all(d.multiplier == 100 for d in definitions)
    assert {d.underlying for d in definitions} == set(config.underlyings)
    assert all(o.open_interest_contracts >= 0 for o in interest)


@pytest.mark.parametrize(
    ("symbol", "zero_dte", "step_e9"),
    [
        pytest.param("SPY", True, 1 * 10**9, id="SPY"),
        pytest.param("QQQ", True, 1 * 10**9, id="QQQ"),
        pytest.param("AAPL", False, 2_500_000_000, id="AAPL"),
        pytest.param("NVDA", False, 1 * 10**9, id="NVDA"),
        pytest.param("TSLA", False, 2_500_000_000, id="TSLA"),
    ],
)
def test_chain_has_the_listed_expiries_and_strikes(symbol: str, zero_dte: bool, step_e9: int) -> None:
    today = session_date(DEFAULT_START_TS)
    definitions = [
        e
        for e in SyntheticMarket(SyntheticConfig()).refdata()
        if isinstance(e, OptionDefinition) and e.underlying == symbol
    ]
    dtes = sorted({(d.expiry - today).days for d in definitions})
    assert (dtes[0] == 0) == zero_dte
    assert dtes[-1] >= 60
    assert len(dtes) >= 4
    nearest = [d for d in definitions if (d.expiry - today).days == dtes[0] and d.right == "C"]
    strikes = sorted(d.strike_e9 for d in nearest)
    assert {b - a for a, b in pairwise(strikes)} == {step_e9}
    assert all(parse_occ(d.symbol).strike_e9 == d.strike_e9 for d in definitions)


@pytest.mark.parametrize(
    ("today", "symbol", "expected"),
    [
        pytest.param(
            date(2026, 3, 2), "SPY",
            [date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20), date(2026, 5, 15)],
            id="monday-daily",
        ),
        pytest.param(
            date(2026, 3, 2), "AAPL",
            [date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20), date(2026, 5, 15)],
            id="monday-weekly",
        ),
        pytest.param(
            date(2026, 3, 6), "AAPL",
            [date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20), date(2026, 5, 15)],
            id="friday-is-0dte",
        ),
        pytest.param(
            date(2026, 3, 16), "NVDA",
            [date(2026, 3, 20), date(2026, 3, 27), date(2026, 4, 17), date(2026, 5, 15)],
            id="monthly-week-rolls-to-next-month",
        ),
    ],
)  # fmt: skip
def test_expiry_calendar(today: date, symbol: str, expected: list[date]) -> None:
    assert expiries(KNOWN_SPECS[symbol], today) == expected


# -------------------------------------------------------------------------------------- planted


def all_labels() -> list[tuple[str, PlantedLabel]]:
    return [(profile, label) for profile in PROFILES for label in session(profile).labels]


@pytest.mark.parametrize("profile", PROFILES)
def test_labels_point_at_their_prints(profile: str) -> None:
    s = session(profile)
    assert s.labels
    assert list(s.labels) == sorted(s.labels, key=lambda label: (label.ts_start, label.symbol))
    for label in s.labels:
        prints = prints_of(s, label)
        assert [p.id for p in prints] == list(label.print_ids)
        # One contract per label, except a structure label: every leg's contract, each leg printed.
        assert {p.symbol for p in prints} == set(label.symbols)
        assert label.symbol in label.symbols
        assert {parse_occ(symbol).underlying for symbol in label.symbols} == {label.underlying}
        assert (prints[0].ts_event, prints[-1].ts_event) == (label.ts_start, label.ts_end)
    assert {label.scenario for label in s.labels} <= set(SCENARIOS)
    assert s.labels[0].scenario == "call_sweep", "the first scenario alerts, so a demo shows one within seconds"


def test_planted_sweeps_are_large_multi_venue_and_aggressive() -> None:
    sweeps = [(p, label) for p, label in all_labels() if label.scenario in ("call_sweep", "put_sweep")]
    assert len(sweeps) >= 4
    for profile, label in sweeps:
        s = session(profile)
        prints = prints_of(s, label)
        assert 3 <= len(prints) <= 8
        assert len({p.venue for p in prints}) >= 3
        gaps = [b.ts_event - a.ts_event for a, b in pairwise(prints)]
        assert all(0 < gap <= 100 * NS_PER_MS for gap in gaps)
        assert 5 * NS_PER_MS <= label.ts_end - label.ts_start <= 80 * NS_PER_MS
        assert all(p.price_e9 >= s.quote_at_print[p.id].ask_e9 for p in prints), "buyer-initiated"
        assert any("iso" in p.conditions for p in prints)
        premium = sum(notional_cents(p.price_e9, p.size_contracts, p.multiplier) for p in prints)
        assert premium >= 60_000 * 100
        assert sum(p.size_contracts for p in prints) >= 100
        assert all(p.size_contracts < 500 for p in prints), "no child fill is a block on its own"
        quotes = [q for q in s.events if isinstance(q, OptionNbbo) and q.symbol == label.symbol]
        between = [q for q in quotes if label.ts_start < q.ts_event < label.ts_end]
        assert len(between) >= len(prints) - 1, "the NBBO refreshes between fills"
        assert label.side == "buy"
        assert label.expected_kind == "sweep"
        assert "large_sweep" in label.expected_classifiers
        assert {"block_trade", "call_overwrite", "put_write"} <= set(label.forbidden_classifiers)
        assert label.scenario == ("call_sweep" if parse_occ(label.symbol).right == "C" else "put_sweep")


def test_planted_blocks_meet_thresholds_at_the_touch() -> None:
    blocks = [(p, label) for p, label in all_labels() if label.scenario == "block"]
    assert len(blocks) >= 2
    for profile, label in blocks:
        s = session(profile)
        (p,) = prints_of(s, label)
        premium = notional_cents(p.price_e9, p.size_contracts, p.multiplier)
        assert p.size_contracts >= 600 or premium >= 300_000 * 100
        quote = s.quote_at_print[p.id]
        assert p.price_e9 == (quote.ask_e9 if label.side == "buy" else quote.bid_e9)
        assert label.expected_kind == "block"
        assert "block_trade" in label.expected_classifiers
        assert "large_sweep" in label.forbidden_classifiers


@pytest.mark.parametrize("profile", PROFILES)
def test_planted_scenarios_are_isolated(profile: str) -> None:
    s = session(profile)
    planted = {i for label in s.labels for i in label.print_ids}
    events_by_symbol: dict[str, list[OptionPrint | OptionNbbo]] = defaultdict(list)
    for e in s.events:
        if isinstance(e, OptionPrint | OptionNbbo):
            events_by_symbol[e.symbol].append(e)
    for label in s.labels:
        window = (label.ts_start - ISOLATION_NS, label.ts_end + ISOLATION_NS)
        for symbol in label.symbols:
            for e in events_by_symbol[symbol]:
                if isinstance(e, OptionPrint) and e.id not in planted:
                    assert not window[0] <= e.ts_event <= window[1], (label, e)
    by_symbol: dict[str, list[PlantedLabel]] = defaultdict(list)
    for label in s.labels:
        if label.structure is None:  # a structure label spans its legs, each owning its contract with a label
            by_symbol[label.symbol].append(label)
    for labels in by_symbol.values():
        for a, b in pairwise(labels):
            assert b.ts_start - a.ts_end >= SAME_CONTRACT_GAP_NS


@pytest.mark.parametrize("profile", PROFILES)
def test_a_scenario_is_planted_in_the_first_ten_seconds(profile: str) -> None:
    config = SyntheticConfig(profile=profile, duration_s=60.0)  # type: ignore[arg-type]
    market = SyntheticMarket(config)
    for event in market.events():
        if market.labels or event.ts_event > config.start_ts + 10 * NS_PER_S:
            break
    assert market.labels
    assert market.labels[0].ts_start < config.start_ts + 10 * NS_PER_S


# -------------------------------------------------------------------------------------- profiles


def test_profiles_scale_event_counts() -> None:
    counts = {}
    for profile in PROFILES:
        config = SyntheticConfig(profile=profile, duration_s=3.0)  # type: ignore[arg-type]
        after_open = config.start_ts + 10 * NS_PER_MS  # leave out refdata and the opening snapshot
        counts[profile] = sum(1 for e in SyntheticMarket(config).events() if e.ts_event > after_open)
    assert counts["realistic"] * 5 < counts["active"] < counts["firehose"] / 5
    assert 200 * 3 <= counts["realistic"] <= 600 * 3, "a few hundred events per second"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"profile": "turbo"}, id="profile"),
        pytest.param({"underlyings": ()}, id="no-underlyings"),
        pytest.param({"underlyings": ("spy",)}, id="lower-case"),
        pytest.param({"underlyings": ("TOOLONGX",)}, id="long-root"),
        pytest.param({"underlyings": ("SPY", "SPY")}, id="duplicate"),
        pytest.param({"duration_s": 0.0}, id="zero-duration"),
        pytest.param({"duration_s": 0.5}, id="sub-second"),
        pytest.param({"duration_s": float("nan")}, id="nan-duration"),
        pytest.param({"duration_s": float("inf")}, id="infinite-duration"),
        pytest.param({"start_ts": 0}, id="start"),
        pytest.param({"plant_every_s": 0.0}, id="plant-every"),
    ],
)
def test_config_rejects_invalid_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ per field
        SyntheticConfig(**kwargs)  # type: ignore[arg-type]


def test_plant_interval_follows_the_profile_unless_set() -> None:
    assert SyntheticConfig().plant_interval_s > SyntheticConfig(profile="firehose").plant_interval_s
    assert SyntheticConfig(profile="firehose", plant_every_s=30.0).plant_interval_s == 30.0


def test_config_from_settings() -> None:
    settings = Settings(
        synthetic_seed=11, synthetic_profile="active", synthetic_underlyings="spy, nvda", synthetic_duration_s=90.0
    )
    expected = SyntheticConfig(seed=11, profile="active", underlyings=("SPY", "NVDA"), duration_s=90.0)
    assert SyntheticConfig.from_settings(settings) == expected
    assert SyntheticConfig.from_settings(settings, duration_s=5.0) == replace(expected, duration_s=5.0)


def test_expired_contracts_stop_trading_at_the_close() -> None:
    close = close_ns(session_date(DEFAULT_START_TS))
    config = SyntheticConfig(start_ts=close - 20 * NS_PER_S, duration_s=40.0, plant_every_s=5.0)
    market = SyntheticMarket(config)
    today = session_date(config.start_ts)
    zero_dte = [e for e in market.events() if isinstance(e, OptionNbbo | OptionPrint) and e.symbol[6:12] == "260302"]
    assert zero_dte, "0DTE contracts trade before the close"
    assert max(e.ts_event for e in zero_dte) < close
    assert all(parse_occ(label.symbol).expiry > today or label.ts_end < close for label in market.labels)


def test_unknown_underlyings_get_a_chain() -> None:
    market = SyntheticMarket(SyntheticConfig(underlyings=("IWM", "XYZ"), duration_s=5.0))
    events = list(market.events())
    assert {e.underlying for e in events if isinstance(e, OptionDefinition)} == {"IWM", "XYZ"}
    assert any(isinstance(e, OptionPrint) for e in events)


# ---------------------------------------------------------------------------------------- pacing


@dataclass
class FakeClock:
    now: float = 100.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass(frozen=True)
class Tick:
    ts_event: int


@pytest.mark.parametrize(
    "speed", [pytest.param(1.0, id="1x"), pytest.param(2.0, id="2x"), pytest.param(10.0, id="10x")]
)
def test_iter_paced_yields_at_speed_times_real_time(speed: float) -> None:
    offsets_s = [0.0, 0.0, 0.5, 0.5004, 2.0, 3.25]
    ticks = [Tick(DEFAULT_START_TS + round(o * NS_PER_S)) for o in offsets_s]
    fake = FakeClock()
    seen: list[tuple[Tick, float]] = []
    for tick in iter_paced(ticks, speed, clock=fake.clock, sleep=fake.sleep):
        seen.append((tick, fake.now))
        fake.now += 0.0001  # the consumer takes a little time
    assert [t for t, _ in seen] == ticks
    for (tick, at), offset in zip(seen, offsets_s, strict=True):
        due = 100.0 + offset / speed
        assert due - MIN_SLEEP_S <= at <= due + 0.001, (tick, at, due)
    assert fake.sleeps
    assert sum(fake.sleeps) == pytest.approx(offsets_s[-1] / speed, abs=0.01)


def test_iter_paced_never_reads_the_clock_when_unpaced() -> None:
    def clock() -> float:
        raise AssertionError("clock read")

    def sleep(_: float) -> None:
        raise AssertionError("slept")

    ticks = [Tick(DEFAULT_START_TS + i * NS_PER_S) for i in range(3)]
    assert list(iter_paced(ticks, 0.0, clock=clock, sleep=sleep)) == ticks


def test_iter_paced_does_not_catch_up_by_sleeping_backwards() -> None:
    fake = FakeClock()
    ticks = [Tick(DEFAULT_START_TS), Tick(DEFAULT_START_TS + NS_PER_S)]
    for i, _ in enumerate(iter_paced(ticks, 1.0, clock=fake.clock, sleep=fake.sleep)):
        if i == 0:
            fake.now += 5.0  # a slow consumer: the next event is already late
    assert fake.sleeps == []
