"""`flowtape evaluate`: replay a labeled synthetic session through the flows in-process and score every
classifier against the planted ground truth.

A hit matches a label when its evidence ids overlap the label's print ids. Per classifier:

- recall = labels expecting it that it hit / labels expecting it;
- precision = true positives / (true positives + false positives), where a hit is a true positive when it
  matches a label expecting the classifier and a false positive when it matches only labels forbidding it.
  Hits matching labels that neither expect nor forbid it (baseline-relative clauses: z-scores) are counted
  as incidental; hits on background prints (no label) are counted apart, since the background tape is not
  ground truth for baseline-relative rules.

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
from connectors.synthetic.planted import DARK_CLASSIFIERS, PACKET_CLASSIFIERS, STRUCTURE_CLASSIFIERS, CandleLabel
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
)
from events.symbology import parse_occ
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

ENGINE_INPUTS: dict[str, str] = {
    "golden_sweep": "open interest (PacketContext.open_interest_contracts)",
    "new_position_likely": "open interest (PacketContext.open_interest_contracts)",
    "unusual_volume": "day volume and open interest (PacketContext.day_volume_contracts, open_interest_contracts)",
    "repeated_hits": "the repeated-hits detector's run (PacketContext.repeat_run)",
}
"""Packet classifiers that read inputs beyond the packet and its z-scores, and what they need."""


# ------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ClassifierScore:
    """One classifier's counts against the labels."""

    classifier: str
    expected: int
    recalled: int
    forbidden: int
    hits: int
    true_positives: int
    false_positives: int
    incidental: int
    background: int
    direction_checked: int
    direction_agreed: int
    status: Status
    reason: str = ""

    @property
    def recall(self) -> float | None:
        return self.recalled / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        scored = self.true_positives + self.false_positives
        return self.true_positives / scored if scored else None

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
    """A hit on prints whose labels forbid its classifier."""

    hit: Scorable
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

    def score(self, classifier: str) -> ClassifierScore:
        """Return one classifier's score."""
        return next(s for s in self.scores if s.classifier == classifier)

    @property
    def failed(self) -> tuple[ClassifierScore, ...]:
        """Return the classifiers below the minimum or without labels."""
        return tuple(s for s in self.scores if s.status in ("below", "no labels"))

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


def score_hits(
    labels: Sequence[PlantedLabel],
    hits: Iterable[Scorable],
    *,
    unavailable: dict[str, str],
    minimum: float = DEFAULT_MIN,
    classifiers: Sequence[str] = PACKET_CLASSIFIERS,
    visible_alerts: dict[str, int] | None = None,
) -> Evaluation:
    """Score hits against labels (pure). `unavailable` maps a classifier to the input the engine lacks."""
    by_print: dict[str, list[PlantedLabel]] = defaultdict(list)
    for label in labels:
        for print_id in label.print_ids:
            by_print[print_id].append(label)
    hits = list(hits)
    fired_on: dict[int, set[str]] = defaultdict(set)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    false_positives: list[FalsePositive] = []
    for hit in hits:
        c = counts[hit.classifier]
        c["hits"] += 1
        matched = list({id(label): label for i in hit.evidence_ids for label in by_print.get(i, ())}.values())
        for label in matched:
            fired_on[id(label)].add(hit.classifier)
        if not matched:
            c["background"] += 1
        elif any(hit.classifier in label.expected_classifiers for label in matched):
            c["tp"] += 1
            directed = [lb for lb in matched if hit.classifier in lb.expected_classifiers and lb.expected_direction]
            if directed:
                c["dir_checked"] += 1
                c["dir_ok"] += any(hit.direction == lb.expected_direction for lb in directed)
        elif any(hit.classifier in label.forbidden_classifiers for label in matched):
            c["fp"] += 1
            false_positives.append(FalsePositive(hit, tuple(matched)))
        else:
            c["incidental"] += 1
    misses: list[Miss] = []
    for label in labels:
        fired = fired_on.get(id(label), set())
        for classifier in label.expected_classifiers:
            counts[classifier]["expected"] += 1
            if classifier in fired:
                counts[classifier]["recalled"] += 1
            else:
                misses.append(Miss(classifier, label, tuple(sorted(fired))))
        for classifier in label.forbidden_classifiers:
            counts[classifier]["forbidden"] += 1
    names = list(dict.fromkeys([*classifiers, *sorted(counts)]))
    scores = []
    for name in names:
        c = counts[name]
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
            recall = c["recalled"] / c["expected"]
            scored = c["tp"] + c["fp"]
            precision = c["tp"] / scored if scored else 0.0
            status = "ok" if recall >= minimum and precision >= minimum else "below"
        scores.append(
            ClassifierScore(
                classifier=name,
                expected=c["expected"],
                recalled=c["recalled"],
                forbidden=c["forbidden"],
                hits=c["hits"],
                true_positives=c["tp"],
                false_positives=c["fp"],
                incidental=c["incidental"],
                background=c["background"],
                direction_checked=c["dir_checked"],
                direction_agreed=c["dir_ok"],
                status=status,
                reason=reason,
            )
        )
    return Evaluation(
        scores=tuple(scores),
        misses=tuple(m for m in misses if m.classifier not in unavailable),
        false_positives=tuple(false_positives),
        labels=len(labels),
        hard_negatives=sum(label.hard_negative for label in labels),
        visible_alerts=visible_alerts or {},
        minimum=minimum,
    )


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
    workers: int = 1,
    config: OptionsConfig | None = None,
    support: Callable[[OptionsConfig], dict[str, str]] = engine_support,
) -> Evaluation:
    """Run one synthetic session through the flows and score the classifiers against its labels."""
    config = config or default_thresholds()
    market = SyntheticMarket(market_config)
    derived = run_events(market.events, config=config, workers=workers, equities=EquitiesConfig.model_construct())
    hits: list[Scorable] = [h for h in derived.get("flow.hits", []) if isinstance(h, ClassifierHit)]
    hits += [DarkHit.of(d) for d in derived.get("dark.inferences", []) if isinstance(d, DarkInference)]
    candles = score_candles(
        market.candle_labels, (c for c in derived.get("equities.candles", []) if isinstance(c, Candle))
    )
    alerts = _latest_alerts(derived.get("flow.alerts", []))
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
    )
    return dataclasses.replace(evaluation, candles=candles)


def _latest_alerts(items: Iterable[DerivedEvent]) -> list[Alert]:
    latest: dict[str, Alert] = {}
    for item in items:
        if isinstance(item, Alert) and (item.id not in latest or item.revision > latest[item.id].revision):
            latest[item.id] = item
    return list(latest.values())


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


def report(evaluation: Evaluation, *, max_rows: int = 20) -> Iterator[str]:
    """Yield the report's lines: per-classifier scores, then misses and false positives with explanations."""
    ev = evaluation
    yield (
        f"{ev.labels} planted labels ({ev.hard_negatives} hard negatives); a hit matches a label when its evidence "
        f"ids overlap the label's print ids; minimum {ev.minimum:g} for recall and precision"
    )
    yield ""
    rows = []
    for s in ev.scores:
        direction = f"{s.direction_agreed}/{s.direction_checked}" if s.direction_checked else "-"
        status = s.status if not s.reason else f"{s.status}: {s.reason}"
        rows.append(
            [
                s.classifier,
                str(s.expected),
                str(s.forbidden),
                str(s.hits),
                str(s.true_positives),
                str(s.false_positives),
                str(s.incidental),
                str(s.background),
                _pct(s.recall) if s.evaluated else "-",
                _pct(s.precision) if s.evaluated else "-",
                direction,
                status,
            ]
        )
    header = [
        "classifier",
        "expect",
        "forbid",
        "hits",
        "tp",
        "fp",
        "incid",
        "backgr",
        "recall",
        "precis",
        "dir",
        "status",
    ]
    yield from _table(header, rows, right=frozenset(range(1, 11)))
    yield ""
    yield (
        "expect/forbid: labels that expect / forbid it; tp/fp: hits on labels expecting / only forbidding it; "
        "incid: hits on labels that do neither (baseline-relative clauses); backgr: hits on unlabeled background; "
        "dir: true positives reading the label's direction."
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
                ",".join(sorted({lb.scenario for lb in fp.labels})),
                fp.hit.symbol.strip(),
                _clip(" ".join(fp.hit.explanations), 110),
            ]
            for fp in ev.false_positives[:max_rows]
        ]
        yield from _table(["classifier", "scenario", "contract", "explanation"], fp_rows)
        if len(ev.false_positives) > max_rows:
            yield f"... and {len(ev.false_positives) - max_rows} more"
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
    if failed or ev.candles_failed:
        parts = [f"{s.classifier} ({s.status})" for s in failed]
        if ev.candles_failed:
            parts.append("candles")
        yield "FAIL: " + ", ".join(parts)
    else:
        yield f"PASS: every evaluated classifier at or above {ev.minimum:g}"
    if skipped:
        yield "not evaluated (no pass claimed): " + ", ".join(skipped)


def run_evaluate_cli(args: argparse.Namespace) -> int:
    """Run `flowtape evaluate`; return 1 when a classifier is below --min (or unevaluated with --require-all)."""
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
    evaluation = evaluate(market_config, minimum=args.min, workers=args.workers)
    print(
        f"flowtape evaluate: seed {market_config.seed}, profile {market_config.profile}, "
        f"{market_config.duration_s:g} s, a scenario every {market_config.plant_interval_s:g} s per underlying, "
        f"underlyings {','.join(market_config.underlyings)}, default thresholds"
    )
    for line in report(evaluation, max_rows=args.max_rows):
        print(line)
    unevaluated = any(s.status == "not evaluated" for s in evaluation.scores)
    failed = evaluation.failed or evaluation.candles_failed
    return 1 if failed or (args.require_all and unevaluated) else 0
