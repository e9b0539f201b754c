"""`flowtape evaluate`: replay a labeled synthetic session through the flows in-process and score every
classifier, and every alert, against the planted ground truth.

A hit or an alert matches a label when its evidence ids overlap the label's print ids (an alert cites a bounded
number of its largest prints; planted patterns' prints are the large ones, so they stay cited). Per classifier:

- recall = labels expecting it that it hit (that an alert naming it covers) / labels expecting it;
- precision = true positives / (true positives + false positives). A hit is a true positive when it matches a
  label expecting its classifier. It is a false positive when it matches only labels forbidding it, when it
  matches only labels that say nothing about its kind of classifier (a structure classifier on prints of
  single-contract labels: a coincidence of timing, not a planted structure), and when it matches no label at
  all: background activity is part of the test, and a hit on it is noise a trader would have to read. The
  `bg` column counts the false positives on background.
- incidental: a hit matching a planted label of its own kind that neither expects nor forbids it. Labels leave a
  classifier undecided only where its firing depends on the background's baselines (a z-score clause of
  `unusual_spike` or `large_sweep` on a planted large print, 5-minute volume straddling a bucket), so the
  planted print is real flow and the rule's firing on it is plausible either way; these are left out of
  precision and shown.

An alert is scored per classifier it names, the same way, and as a whole: true when a classifier it names is a
true positive, false when every classifier it names is a false positive (background, or only forbidding labels),
incidental otherwise. False alerts per underlying-hour = false alerts / (underlyings x session hours): the noise
a desk watching the feed would see. Dark inferences raise no alerts (BEHAVIOR section 6: alerts are per packet or
structure), so their alert columns read "-". A structure's alert speaks for its legs: a planted structure whose
legs raised alerts of their own that neither are its alert nor cite it is counted as not folded.

Labels are ground truth for the default thresholds, so the evaluation runs with the defaults. A classifier
whose inputs the options engine does not provide yet (found by probing the engine, not assumed) is printed
as not evaluated, never as a pass.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket
from connectors.synthetic.planted import (
    DARK_CLASSIFIERS,
    PACKET_CLASSIFIERS,
    STRUCTURE_CLASSIFIERS,
    CandleLabel,
    DarkLabel,
)
from events.config import EquitiesConfig, OptionsConfig, parse_windows
from events.ids import raw_event_id
from events.models import (
    Alert,
    AnyEvent,
    Candle,
    ClassifierHit,
    DarkInference,
    DerivedEvent,
    Direction,
    OpenInterest,
    OptionNbbo,
    OptionPrint,
    Structure,
)
from events.symbology import parse_occ
from events.topics import DARK_INFERENCES, EQUITIES_CANDLES, FLOW_ALERTS, FLOW_HITS, FLOW_STRUCTURES
from events.units import NS_PER_MS, NS_PER_S, price_e9
from events.views import FILTER_NAMES, etf_symbols, filter_profile, visible
from flows.replay import run_events

Status = Literal["ok", "below", "not evaluated", "no labels"]


class Scorable(Protocol):
    """What scoring reads of a hit: classifier hits and dark inferences (through `DarkHit`) both qualify."""

    @property
    def classifier(self) -> str: ...
    @property
    def evidence_ids(self) -> tuple[str, ...]: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def symbol(self) -> str: ...
    @property
    def explanations(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class DarkHit:
    """A dark inference seen as a hit: its kind is the classifier, and it is matched by the print that triggered
    it (the last of its evidence), not by every print it cites: an inference wrongly raised during a cooldown
    cites the first run's prints too, and must count against the cooldown run's label, not for the first run.
    """

    classifier: str
    evidence_ids: tuple[str, ...]
    direction: Direction
    symbol: str
    explanations: tuple[str, ...]

    @classmethod
    def of(cls, inference: DarkInference) -> DarkHit:
        trigger = inference.evidence_ids[-1:]
        return cls(inference.kind, trigger, inference.direction, inference.underlying, inference.explanations)


DEFAULT_SECONDS = 300.0
DEFAULT_PLANT_EVERY_S = 2.0
DEFAULT_MIN = 0.9
DEFAULT_MAX_FALSE_ALERTS_PER_HOUR = 1.0
"""At most one false alert per underlying per hour of session: what a desk could still read."""

ENGINE_INPUTS: dict[str, str] = {
    "golden_sweep": "open interest (PacketContext.open_interest_contracts)",
    "new_position_likely": "open interest (PacketContext.open_interest_contracts)",
    "unusual_volume": "day volume and open interest (PacketContext.day_volume_contracts, open_interest_contracts)",
    "repeated_hits": "the repeated-hits detector's run (PacketContext.repeat_run)",
}
"""Packet classifiers that read inputs beyond the packet and its z-scores, and what they need."""


# ------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Tally:
    """What one classifier's hits, or the alerts naming it, came to against the labels."""

    expected: int
    """Labels expecting the classifier."""
    recalled: int
    """Of those, labels it hit (an alert naming it covered)."""
    scored: int
    """Hits (alerts naming it)."""
    true_positives: int
    false_positives: int
    background: int
    """Of the false positives: on prints no label holds."""
    incidental: int

    @property
    def recall(self) -> float | None:
        return self.recalled / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        scored = self.true_positives + self.false_positives
        return self.true_positives / scored if scored else None

    def meets(self, minimum: float) -> bool:
        """Return whether recall and precision are at least `minimum` (no false positive and no label: met)."""
        return (self.recall is None or self.recall >= minimum) and (self.precision or 0.0) >= minimum


@dataclass(frozen=True)
class ClassifierScore:
    """One classifier's counts against the labels: its hits, and the alerts naming it (None: never alerted)."""

    classifier: str
    expected: int
    forbidden: int
    hit_tally: Tally
    alert_tally: Tally | None
    direction_checked: int
    direction_agreed: int
    status: Status
    reason: str = ""

    @property
    def recalled(self) -> int:
        return self.hit_tally.recalled

    @property
    def hits(self) -> int:
        return self.hit_tally.scored

    @property
    def true_positives(self) -> int:
        return self.hit_tally.true_positives

    @property
    def false_positives(self) -> int:
        return self.hit_tally.false_positives

    @property
    def incidental(self) -> int:
        return self.hit_tally.incidental

    @property
    def background(self) -> int:
        return self.hit_tally.background

    @property
    def recall(self) -> float | None:
        return self.hit_tally.recall

    @property
    def precision(self) -> float | None:
        return self.hit_tally.precision

    @property
    def evaluated(self) -> bool:
        return self.status in ("ok", "below")


@dataclass(frozen=True)
class Miss:
    """A label whose expected classifier did not fire, with what fired on its prints instead."""

    classifier: str
    label: PlantedLabel
    fired: tuple[str, ...]


@dataclass(frozen=True)
class FalsePositive:
    """A hit on background prints, or on prints whose labels forbid its classifier or say nothing of its kind."""

    hit: Scorable
    labels: tuple[PlantedLabel, ...]


@dataclass(frozen=True)
class FalseAlert:
    """An alert every classifier of which is a false positive."""

    alert: Alert
    labels: tuple[PlantedLabel, ...]


@dataclass(frozen=True)
class Evaluation:
    """Scores, misses and false positives of one run."""

    scores: tuple[ClassifierScore, ...]
    misses: tuple[Miss, ...]
    false_positives: tuple[FalsePositive, ...]
    labels: int
    hard_negatives: int
    visible_alerts: dict[str, int]
    minimum: float
    candles: CandleScore | None = None
    alerts: int = 0
    true_alerts: int = 0
    false_alerts: tuple[FalseAlert, ...] = ()
    underlying_hours: float | None = None
    """Underlyings x session hours (None: the alerts were not scored)."""
    max_false_alerts_per_hour: float = DEFAULT_MAX_FALSE_ALERTS_PER_HOUR
    structures_alerted: int = 0
    """Planted structures expected to fire a structure classifier whose prints an alert covers."""
    unfolded: tuple[PlantedLabel, ...] = ()
    """Of those, structures whose legs raised alerts of their own that neither are nor cite the structure's."""

    def score(self, classifier: str) -> ClassifierScore:
        """Return one classifier's score."""
        return next(s for s in self.scores if s.classifier == classifier)

    @property
    def failed(self) -> tuple[ClassifierScore, ...]:
        """Return the classifiers below the minimum (hits or alerts) or without labels."""
        return tuple(s for s in self.scores if s.status in ("below", "no labels"))

    @property
    def false_alerts_per_underlying_hour(self) -> float | None:
        if not self.underlying_hours:
            return None
        return len(self.false_alerts) / self.underlying_hours

    @property
    def noisy(self) -> bool:
        """Return whether false alerts per underlying-hour exceed the maximum."""
        rate = self.false_alerts_per_underlying_hour
        return rate is not None and rate > self.max_false_alerts_per_hour

    @property
    def candles_failed(self) -> bool:
        """Return whether a planted candle window came out wrong (or none was planted)."""
        return self.candles is not None and (not self.candles.expected or bool(self.candles.wrong))


@dataclass(frozen=True)
class CandleScore:
    """Planted candle windows rebuilt exactly (open, high, low, close, volume) by the candle operator."""

    expected: int
    exact: int
    wrong: tuple[tuple[CandleLabel, str], ...]
    """Each wrong window with what differed."""


def score_candles(labels: Sequence[CandleLabel], candles: Iterable[Candle]) -> CandleScore:
    """Compare each planted window with the candle of its underlying, interval and start (pure)."""
    built = {(c.underlying, _interval_ms(c.interval), c.window_start_ns): c for c in candles}
    wrong: list[tuple[CandleLabel, str]] = []
    for label in labels:
        candle = built.get((label.underlying, label.interval_ms, label.ts_start))
        if candle is None:
            wrong.append((label, "no candle"))
            continue
        want = (label.open_e9, label.high_e9, label.low_e9, label.close_e9, label.volume_shares)
        got = (candle.open_e9, candle.high_e9, candle.low_e9, candle.close_e9, candle.volume_shares)
        if got != want:
            names = ("open", "high", "low", "close", "volume")
            diff = ", ".join(f"{n} {g} != {w}" for n, g, w in zip(names, got, want, strict=True) if g != w)
            wrong.append((label, diff))
    return CandleScore(expected=len(labels), exact=len(labels) - len(wrong), wrong=tuple(wrong))


def _interval_ms(label: str) -> int:
    return parse_windows(label)[0][1] // NS_PER_MS


Outcome = Literal["tp", "fp", "incidental"]


def family(label: PlantedLabel) -> tuple[str, ...]:
    """Return the classifiers a label speaks about: structure, dark or packet classifiers."""
    if label.structure is not None:
        return STRUCTURE_CLASSIFIERS
    if isinstance(label, DarkLabel):
        return DARK_CLASSIFIERS
    return PACKET_CLASSIFIERS


def outcome(classifier: str, matched: Sequence[PlantedLabel]) -> Outcome:
    """Return how a hit of `classifier` on prints of the `matched` labels scores (none matched: background)."""
    if any(classifier in label.expected_classifiers for label in matched):
        return "tp"
    undecided = [
        label for label in matched if classifier not in label.forbidden_classifiers and classifier in family(label)
    ]
    return "incidental" if undecided else "fp"


class _Matcher:
    """Labels by print id."""

    def __init__(self, labels: Sequence[PlantedLabel]) -> None:
        self.by_print: dict[str, list[PlantedLabel]] = defaultdict(list)
        for label in labels:
            for print_id in label.print_ids:
                self.by_print[print_id].append(label)

    def __call__(self, evidence_ids: Iterable[str]) -> list[PlantedLabel]:
        return list({id(label): label for i in evidence_ids for label in self.by_print.get(i, ())}.values())


def _counter() -> defaultdict[str, int]:
    return defaultdict(int)


def score_hits(
    labels: Sequence[PlantedLabel],
    hits: Iterable[Scorable],
    *,
    unavailable: dict[str, str],
    minimum: float = DEFAULT_MIN,
    classifiers: Sequence[str] = PACKET_CLASSIFIERS,
    visible_alerts: dict[str, int] | None = None,
    alerts: Sequence[Alert] | None = None,
    alerted: Sequence[str] = (*PACKET_CLASSIFIERS, *STRUCTURE_CLASSIFIERS),
    structure_ids: frozenset[str] = frozenset(),
    underlying_hours: float | None = None,
    max_false_alerts_per_hour: float = DEFAULT_MAX_FALSE_ALERTS_PER_HOUR,
) -> Evaluation:
    """Score hits, and alerts when given, against labels (pure).

    `unavailable` maps a classifier to the input the engine lacks; `alerted` names the classifiers alerts can name;
    `structure_ids` are the run's structure ids (a leg's alert citing one is folded into it).
    """
    match = _Matcher(labels)
    fired_on: dict[int, set[str]] = defaultdict(set)
    counts: dict[str, defaultdict[str, int]] = defaultdict(_counter)
    false_positives: list[FalsePositive] = []
    for hit in hits:
        c = counts[hit.classifier]
        c["hits"] += 1
        matched = match(hit.evidence_ids)
        for label in matched:
            fired_on[id(label)].add(hit.classifier)
        result = outcome(hit.classifier, matched)
        c[result] += 1
        if result == "fp":
            c["background"] += not matched
            false_positives.append(FalsePositive(hit, tuple(matched)))
        elif result == "tp":
            directed = [lb for lb in matched if hit.classifier in lb.expected_classifiers and lb.expected_direction]
            if directed:
                c["dir_checked"] += 1
                c["dir_ok"] += any(hit.direction == lb.expected_direction for lb in directed)
    alert_counts: dict[str, defaultdict[str, int]] = defaultdict(_counter)
    alerted_on: dict[int, set[str]] = defaultdict(set)
    false_alerts: list[FalseAlert] = []
    true_alerts = 0
    for alert in alerts or ():
        matched = match(alert.evidence_ids)
        for label in matched:
            alerted_on[id(label)].update(alert.classifiers)
        results = set()
        for classifier in alert.classifiers:
            result = outcome(classifier, matched)
            results.add(result)
            a = alert_counts[classifier]
            a["alerts"] += 1
            a[result] += 1
            a["background"] += result == "fp" and not matched
        if "tp" in results:
            true_alerts += 1
        elif results == {"fp"}:
            false_alerts.append(FalseAlert(alert, tuple(matched)))
    misses: list[Miss] = []
    for label in labels:
        fired = fired_on.get(id(label), set())
        for classifier in label.expected_classifiers:
            counts[classifier]["expected"] += 1
            counts[classifier]["recalled"] += classifier in fired
            alert_counts[classifier]["recalled"] += classifier in alerted_on.get(id(label), set())
            if classifier not in fired:
                misses.append(Miss(classifier, label, tuple(sorted(fired))))
        for classifier in label.forbidden_classifiers:
            counts[classifier]["forbidden"] += 1
    names = list(dict.fromkeys([*classifiers, *sorted(counts)]))
    scores = []
    for name in names:
        c = counts[name]
        hit_tally = Tally(c["expected"], c["recalled"], c["hits"], c["tp"], c["fp"], c["background"], c["incidental"])
        alert_tally = None
        if alerts is not None and name in alerted:
            a = alert_counts[name]
            alert_tally = Tally(
                c["expected"], a["recalled"], a["alerts"], a["tp"], a["fp"], a["background"], a["incidental"]
            )
        status: Status
        reason = ""
        if name in unavailable:
            status, reason = "not evaluated", f"engine does not provide {unavailable[name]} yet"
        elif not c["expected"]:
            if name in classifiers:
                status, reason = (
                    "no labels",
                    "no planted label expects it: run longer (--seconds) or on a quieter --profile",
                )
            else:
                status, reason = "not evaluated", "no planted scenario for it yet"
        else:
            met = hit_tally.meets(minimum) and (alert_tally is None or alert_tally.meets(minimum))
            status = "ok" if met else "below"
        scores.append(
            ClassifierScore(
                classifier=name,
                expected=c["expected"],
                forbidden=c["forbidden"],
                hit_tally=hit_tally,
                alert_tally=alert_tally,
                direction_checked=c["dir_checked"],
                direction_agreed=c["dir_ok"],
                status=status,
                reason=reason,
            )
        )
    structures = [
        label
        for label in labels
        if label.structure is not None and label.expected_classifiers and alerted_on.get(id(label))
    ]
    unfolded = [label for label in structures if _legs_alone(label, alerts or (), structure_ids)]
    return Evaluation(
        scores=tuple(scores),
        misses=tuple(m for m in misses if m.classifier not in unavailable),
        false_positives=tuple(false_positives),
        labels=len(labels),
        hard_negatives=sum(label.hard_negative for label in labels),
        visible_alerts=visible_alerts or {},
        minimum=minimum,
        alerts=len(alerts or ()),
        true_alerts=true_alerts,
        false_alerts=tuple(false_alerts),
        underlying_hours=underlying_hours if alerts is not None else None,
        max_false_alerts_per_hour=max_false_alerts_per_hour,
        structures_alerted=len(structures),
        unfolded=tuple(unfolded),
    )


def _legs_alone(label: PlantedLabel, alerts: Iterable[Alert], structure_ids: frozenset[str]) -> bool:
    """Return whether an alert on a planted structure's prints speaks for a leg alone: it names no structure
    classifier and cites no structure among its subjects."""
    prints = set(label.print_ids)
    for alert in alerts:
        if not prints.intersection(alert.evidence_ids):
            continue
        if set(alert.classifiers) & set(STRUCTURE_CLASSIFIERS) or structure_ids.intersection(alert.subject_ids):
            continue
        return True
    return False


# ----------------------------------------------------------------------------------- engine probe

_PROBE_SYMBOL = "SPY   260320C00580000"
_PROBE_T0 = 1_772_461_800 * NS_PER_S  # 2026-03-02 09:30 New York


def _probe_tape() -> list[AnyEvent]:
    """A golden sweep on a contract with open interest 1, then single buys every 3 s at $200k each."""
    occ = parse_occ(_PROBE_SYMBOL)
    seq = 0
    out: list[AnyEvent] = [
        OpenInterest(
            id=raw_event_id("probe", "open_interest", _PROBE_SYMBOL, _PROBE_T0, 0),
            ts_event=_PROBE_T0,
            provider="probe",
            symbol=_PROBE_SYMBOL,
            underlying=occ.underlying,
            open_interest_contracts=1,
        )
    ]

    def quote(ts: int) -> OptionNbbo:
        nonlocal seq
        seq += 1
        return OptionNbbo(
            id=raw_event_id("probe", "nbbo", _PROBE_SYMBOL, ts, seq),
            ts_event=ts,
            provider="probe",
            sequence=seq,
            symbol=_PROBE_SYMBOL,
            underlying=occ.underlying,
            bid_e9=price_e9("19.90"),
            ask_e9=price_e9("20.00"),
            bid_size_contracts=100,
            ask_size_contracts=100,
        )

    def trade(ts: int, size: int, venue: str) -> OptionPrint:
        nonlocal seq
        seq += 1
        return OptionPrint(
            id=raw_event_id("probe", "trades", _PROBE_SYMBOL, ts, seq),
            ts_event=ts,
            provider="probe",
            sequence=seq,
            symbol=_PROBE_SYMBOL,
            underlying=occ.underlying,
            root=occ.root,
            expiry=occ.expiry,
            right=occ.right,
            strike_e9=occ.strike_e9,
            venue=venue,
            venue_id=venue,
            price_e9=price_e9("20.00"),
            size_contracts=size,
            conditions=("iso",),
        )

    start = _PROBE_T0 + NS_PER_S
    out.append(quote(start - NS_PER_MS))
    out += [trade(start + i * 10 * NS_PER_MS, 200, venue) for i, venue in enumerate(("XCBO", "XPHL", "XISX"))]
    for k in (3, 6, 9):
        ts = _PROBE_T0 + k * NS_PER_S
        out += [quote(ts - NS_PER_MS), trade(ts, 100, "XCBO")]
    out.append(quote(_PROBE_T0 + 12 * NS_PER_S))
    return out


def engine_support(config: OptionsConfig) -> dict[str, str]:
    """Probe the flow with a tape on which each engine-fed classifier must fire when given its inputs.

    Return classifier -> the input it lacks, for those that stayed silent.
    """
    tape = _probe_tape()
    hits = run_events(lambda: tape, config=config).get("flow.hits", [])
    fired = {h.classifier for h in hits if isinstance(h, ClassifierHit)}
    return {name: needs for name, needs in ENGINE_INPUTS.items() if name not in fired}


# ------------------------------------------------------------------------------------------- running


def default_thresholds() -> OptionsConfig:
    """Return the settings with every default (the thresholds the labels are stated against)."""
    return OptionsConfig.model_construct()


def evaluate(
    market_config: SyntheticConfig,
    *,
    minimum: float = DEFAULT_MIN,
    max_false_alerts_per_hour: float = DEFAULT_MAX_FALSE_ALERTS_PER_HOUR,
    workers: int = 1,
    config: OptionsConfig | None = None,
    support: Callable[[OptionsConfig], dict[str, str]] = engine_support,
) -> Evaluation:
    """Run one synthetic session through the flows and score the classifiers and alerts against its labels."""
    config = config or default_thresholds()
    market = SyntheticMarket(market_config)
    derived = run_events(market.events, config=config, workers=workers, equities=EquitiesConfig.model_construct())
    hits: list[Scorable] = [h for h in derived.get(FLOW_HITS, []) if isinstance(h, ClassifierHit)]
    hits += [DarkHit.of(d) for d in derived.get(DARK_INFERENCES, []) if isinstance(d, DarkInference)]
    candles = score_candles(
        market.candle_labels, (c for c in derived.get(EQUITIES_CANDLES, []) if isinstance(c, Candle))
    )
    alerts = _latest_alerts(derived.get(FLOW_ALERTS, []))
    structure_ids = frozenset(s.id for s in derived.get(FLOW_STRUCTURES, []) if isinstance(s, Structure))
    etfs = etf_symbols(config)
    shown: dict[str, int] = {
        name: sum(visible(a, filter_profile(name, config), etf_symbols=etfs) for a in alerts) for name in FILTER_NAMES
    }
    evaluation = score_hits(
        [*market.labels, *market.dark_labels],
        hits,
        unavailable=support(config),
        minimum=minimum,
        classifiers=(*PACKET_CLASSIFIERS, *STRUCTURE_CLASSIFIERS, *DARK_CLASSIFIERS),
        visible_alerts=shown,
        alerts=alerts,
        structure_ids=structure_ids,
        underlying_hours=len(market_config.underlyings) * market_config.duration_s / 3_600,
        max_false_alerts_per_hour=max_false_alerts_per_hour,
    )
    return dataclasses.replace(evaluation, candles=candles)


def _latest_alerts(items: Iterable[DerivedEvent]) -> list[Alert]:
    latest: dict[str, Alert] = {}
    for item in items:
        if isinstance(item, Alert) and (item.id not in latest or item.revision > latest[item.id].revision):
            latest[item.id] = item
    return sorted(latest.values(), key=lambda a: (a.ts_first, a.id))


# ------------------------------------------------------------------------------------------ printing


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _labels_text(labels: Sequence[PlantedLabel]) -> str:
    return ",".join(sorted({lb.scenario for lb in labels})) or "background"


def report(evaluation: Evaluation, *, max_rows: int = 20) -> Iterator[str]:
    """Yield the report's lines: per-classifier scores of hits and alerts, the false alerts per underlying-hour,
    then misses, false positives and false alerts with explanations."""
    ev = evaluation
    yield (
        f"{ev.labels} planted labels ({ev.hard_negatives} hard negatives); a hit or alert matches a label when its "
        f"evidence ids overlap the label's print ids; on no label (background) it is a false positive; minimum "
        f"{ev.minimum:g} for recall and precision"
    )
    yield ""
    rows = []
    for s in ev.scores:
        t = s.hit_tally
        direction = f"{s.direction_agreed}/{s.direction_checked}" if s.direction_checked else "-"
        status = s.status if not s.reason else f"{s.status}: {s.reason}"
        row = [s.classifier, str(s.expected), str(s.forbidden), str(t.scored), str(t.true_positives)]
        row += [str(t.false_positives), str(t.background), str(t.incidental)]
        row += [_pct(t.recall) if s.evaluated else "-", _pct(t.precision) if s.evaluated else "-", direction]
        a = s.alert_tally
        if a is None:
            row += ["-"] * 5
        else:
            row += [str(a.scored), str(a.true_positives), str(a.false_positives)]
            row += [_pct(a.recall) if s.evaluated else "-", _pct(a.precision) if s.evaluated else "-"]
        rows.append([*row, status])
    header = ["classifier", "expect", "forbid", "hits", "tp", "fp", "bg", "incid", "recall", "precis", "dir"]
    header += ["alerts", "a.tp", "a.fp", "a.recall", "a.precis", "status"]
    yield from _table(header, rows, right=frozenset(range(1, 16)))
    yield ""
    yield (
        "expect/forbid: labels that expect / forbid it. hits: tp on labels expecting it; fp on background (bg), on "
        "labels only forbidding it, or on labels that say nothing of its kind; incid: on planted labels that leave "
        "it undecided (baseline-relative clauses), out of precision. alerts: the same per classifier an alert "
        "names (the latest revision of each alert); '-': never alerted. dir: true positives reading the "
        "label's direction."
    )
    if ev.underlying_hours is not None:
        rate = ev.false_alerts_per_underlying_hour or 0.0
        yield (
            f"alerts: {ev.alerts:,}, true {ev.true_alerts:,}, false {len(ev.false_alerts):,} "
            f"({sum(not fa.labels for fa in ev.false_alerts):,} on background); "
            f"false alerts per underlying-hour: {rate:.2f} over {ev.underlying_hours:.2f} underlying-hours "
            f"(maximum {ev.max_false_alerts_per_hour:g})"
        )
        yield (
            f"structures alerted: {ev.structures_alerted}, with leg alerts not folded into the structure's: "
            f"{len(ev.unfolded)}"
        )
    if ev.visible_alerts:
        shown = ", ".join(f"{name} {count:,}" for name, count in ev.visible_alerts.items())
        yield f"alerts shown per view: {shown}"
    yield ""
    yield f"misses ({len(ev.misses)}):"
    if ev.misses:
        miss_rows = [
            [
                m.classifier,
                m.label.scenario,
                m.label.symbol.strip(),
                _clip(m.label.description, 90),
                ",".join(m.fired) or "nothing",
            ]
            for m in ev.misses[:max_rows]
        ]
        yield from _table(["classifier", "scenario", "contract", "planted", "fired instead"], miss_rows)
        if len(ev.misses) > max_rows:
            yield f"... and {len(ev.misses) - max_rows} more"
    yield ""
    yield f"false positives ({len(ev.false_positives)}):"
    if ev.false_positives:
        fp_rows = [
            [
                fp.hit.classifier,
                _labels_text(fp.labels),
                fp.hit.symbol.strip(),
                _clip(" ".join(fp.hit.explanations), 110),
            ]
            for fp in ev.false_positives[:max_rows]
        ]
        yield from _table(["classifier", "on", "contract", "explanation"], fp_rows)
        if len(ev.false_positives) > max_rows:
            yield f"... and {len(ev.false_positives) - max_rows} more"
    if ev.underlying_hours is not None:
        yield ""
        yield f"false alerts ({len(ev.false_alerts)}):"
        if ev.false_alerts:
            fa_rows = [
                [
                    ",".join(fa.alert.classifiers),
                    _labels_text(fa.labels),
                    fa.alert.symbol.strip(),
                    str(fa.alert.score),
                    _clip(fa.alert.headline, 100),
                ]
                for fa in ev.false_alerts[:max_rows]
            ]
            yield from _table(["classifiers", "on", "contract", "score", "headline"], fa_rows)
            if len(ev.false_alerts) > max_rows:
                yield f"... and {len(ev.false_alerts) - max_rows} more"
    if ev.candles is not None:
        yield ""
        yield (
            f"candles: {ev.candles.exact}/{ev.candles.expected} planted windows rebuilt exactly (open, high, low, "
            "close, volume; ineligible prints count in volume only)"
        )
        for label, diff in ev.candles.wrong[:max_rows]:
            yield f"  {label.underlying} {label.interval_ms} ms window at {label.ts_start}: {diff}"
    yield ""
    failed = ev.failed
    skipped = [s.classifier for s in ev.scores if s.status == "not evaluated"]
    if failed or ev.candles_failed or ev.noisy:
        parts = [f"{s.classifier} ({s.status})" for s in failed]
        if ev.noisy:
            parts.append(
                f"false alerts per underlying-hour {ev.false_alerts_per_underlying_hour:.2f} > "
                f"{ev.max_false_alerts_per_hour:g}"
            )
        if ev.candles_failed:
            parts.append("candles")
        yield "FAIL: " + ", ".join(parts)
    else:
        yield (
            f"PASS: every evaluated classifier at or above {ev.minimum:g} (hits and alerts), false alerts per "
            f"underlying-hour at most {ev.max_false_alerts_per_hour:g}"
        )
    if ev.unfolded:
        yield (
            f"not yet: {len(ev.unfolded)} planted structures read as separate leg alerts (BEHAVIOR section 6: a "
            "structure's alert speaks for its legs)"
        )
    if skipped:
        yield "not evaluated (no pass claimed): " + ", ".join(skipped)


def run_evaluate_cli(args: argparse.Namespace) -> int:
    """Run `flowtape evaluate`; return 1 when a classifier is below --min, false alerts per underlying-hour exceed
    --max-false-alerts, or (with --require-all) a classifier is unevaluated."""
    underlyings = SyntheticConfig().underlyings if args.underlyings is None else tuple(args.underlyings.split(","))
    market_config = SyntheticConfig(
        seed=args.seed,
        profile=args.profile,
        duration_s=args.seconds,
        plant_every_s=args.plant_every_s,
        underlyings=tuple(s.strip().upper() for s in underlyings if s.strip()),
    )
    if not 0.0 <= args.min <= 1.0:
        raise ValueError(f"--min must be within [0, 1], got {args.min}")
    if not args.max_false_alerts >= 0.0:
        raise ValueError(f"--max-false-alerts must be at least 0, got {args.max_false_alerts}")
    evaluation = evaluate(
        market_config, minimum=args.min, max_false_alerts_per_hour=args.max_false_alerts, workers=args.workers
    )
    print(
        f"flowtape evaluate: seed {market_config.seed}, profile {market_config.profile}, "
        f"{market_config.duration_s:g} s, a scenario every {market_config.plant_interval_s:g} s per underlying, "
        f"underlyings {','.join(market_config.underlyings)}, default thresholds"
    )
    for line in report(evaluation, max_rows=args.max_rows):
        print(line)
    unevaluated = any(s.status == "not evaluated" for s in evaluation.scores)
    failed = evaluation.failed or evaluation.candles_failed or evaluation.noisy
    return 1 if failed or (args.require_all and unevaluated) else 0
