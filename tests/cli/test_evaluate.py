"""`flowtape evaluate`: classifiers scored against the planted ground truth of the default synthetic session."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from functools import cache

import pytest

from cli.evaluate import (
    DEFAULT_PLANT_EVERY_S,
    DEFAULT_SECONDS,
    ENGINE_INPUTS,
    DarkHit,
    Evaluation,
    _probe_tape,
    default_thresholds,
    engine_support,
    evaluate,
    outcome,
    report,
    score_candles,
    score_hits,
)
from cli.main import main
from connectors.synthetic import PlantedLabel, SyntheticConfig
from connectors.synthetic.planted import PACKET_CLASSIFIERS, STRUCTURE_CLASSIFIERS, CandleLabel
from connectors.synthetic.planted.truth import StructureTruth
from events.models import Alert, ClassifierHit, OpenInterest, Packet
from operators.classifiers import PacketContext, classify_packet, session_date
from operators.options_engine import OptionsEngine
from operators.repeated_hits import RepeatedHits
from tests.factories import CALL, PUT, packet

CFG = default_thresholds()


@cache
def default_run() -> Evaluation:
    """The default session of `flowtape evaluate`: seed 7, 300 s, a scenario every 2 s per underlying."""
    config = SyntheticConfig(seed=7, duration_s=DEFAULT_SECONDS, plant_every_s=DEFAULT_PLANT_EVERY_S)
    return evaluate(config)


# ------------------------------------------------------------------------------- the default session


ACCEPTANCE_SEEDS = (7, 11, 23, 42)
ACCEPTANCE_SECONDS = {"realistic": 240.0, "active": 90.0}
"""Shorter sessions than the CLI's default keep the eight runs near a minute; together they still cover several
underlying-hours (5 underlyings x 4 seeds x (240 + 90) s = 1.8), so the false-alert rate means something."""


@cache
def acceptance_run(seed: int, profile: str) -> Evaluation:
    config = SyntheticConfig(
        seed=seed, profile=profile, duration_s=ACCEPTANCE_SECONDS[profile], plant_every_s=DEFAULT_PLANT_EVERY_S
    )
    return evaluate(config)


def _below(ev: Evaluation) -> list[str]:
    out = []
    for s in ev.scores:
        if not s.evaluated:
            continue
        for name, tally in (("hits", s.hit_tally), ("alerts", s.alert_tally)):
            if tally is None:
                continue
            if (tally.recall is not None and tally.recall < 0.9) or (
                tally.scored and tally.precision is not None and tally.precision < 0.9
            ):
                out.append(f"{s.classifier} {name}: recall {tally.recall}, precision {tally.precision}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["realistic", "active"])
@pytest.mark.parametrize("seed", ACCEPTANCE_SEEDS)
def test_acceptance_precision_and_recall(seed: int, profile: str) -> None:
    """Per classifier, hits and alerts: precision and recall >= 0.9 on a tape whose background counts."""
    ev = acceptance_run(seed, profile)
    assert not [s.classifier for s in ev.scores if s.status == "not evaluated" and s.classifier in PACKET_CLASSIFIERS]
    assert _below(ev) == [], "\n".join(report(ev, max_rows=40))
    for s in ev.scores:
        if s.direction_checked:
            assert s.direction_agreed >= 0.9 * s.direction_checked, s


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["realistic", "active"])
def test_acceptance_false_alerts_per_underlying_hour(profile: str) -> None:
    """At most one false alert per underlying-hour, pooled over the seeds (each run alone is a fraction of an hour)."""
    runs = [acceptance_run(seed, profile) for seed in ACCEPTANCE_SEEDS]
    false = sum(len(ev.false_alerts) for ev in runs)
    hours = sum(ev.underlying_hours or 0.0 for ev in runs)
    assert hours >= 0.5
    listed = [f"{fa.alert.headline} ({','.join(lb.scenario for lb in fa.labels) or 'background'})" for ev in runs
              for fa in ev.false_alerts]  # fmt: skip
    assert false / hours <= 1.0, "\n".join(listed)


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["realistic", "active"])
def test_acceptance_structures_read_as_one_alert(profile: str) -> None:
    """A structure's alert speaks for its legs (BEHAVIOR section 6)."""
    runs = [acceptance_run(seed, profile) for seed in ACCEPTANCE_SEEDS]
    assert sum(ev.structures_alerted for ev in runs) >= 20
    unfolded = [label for ev in runs for label in ev.unfolded]
    assert unfolded == [], f"{len(unfolded)} planted structures read as separate leg alerts"


def test_default_seed_rebuilds_every_planted_candle_exactly() -> None:
    candles = default_run().candles
    assert candles is not None
    assert candles.expected >= 50, "candle probes on every underlying"
    assert candles.wrong == ()
    assert candles.exact == candles.expected


def test_a_wrong_candle_is_reported_with_what_differs() -> None:
    from events.models import Candle

    label = CandleLabel("SPY", 1_000, 5_000_000_000, 6_000_000_000, 10, 12, 9, 11, 300, ("a", "b"), ())
    candle = Candle.model_construct(
        underlying="SPY",
        interval="1s",
        window_start_ns=5_000_000_000,
        open_e9=10,
        high_e9=12,
        low_e9=9,
        close_e9=11,
        volume_shares=400,
    )
    score = score_candles([label], [candle])
    assert (score.expected, score.exact) == (1, 0)
    assert score.wrong[0][1] == "volume 400 != 300"
    assert score_candles([label], []).wrong[0][1] == "no candle"


def test_default_session_has_hard_negatives_and_alerts_per_view() -> None:
    ev = default_run()
    assert ev.hard_negatives >= 100
    assert ev.underlying_hours == pytest.approx(5 * DEFAULT_SECONDS / 3_600)
    assert ev.visible_alerts["smart-money"] <= ev.visible_alerts["balanced"] <= ev.visible_alerts["all"]


def test_cli_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    ev = default_run()
    code = main(["evaluate"])
    out = capsys.readouterr().out
    assert code == (1 if ev.failed or ev.noisy or ev.candles_failed else 0)
    assert "flowtape evaluate: seed 7, profile realistic, 300 s, a scenario every 2 s per underlying" in out
    for classifier in PACKET_CLASSIFIERS:
        assert f"\n{classifier} " in out
    for heading in ("misses (", "false positives (", "false alerts (", "false alerts per underlying-hour: "):
        assert heading in out
    assert ("PASS: " in out) is (code == 0)
    for s in ev.scores:
        if s.status == "not evaluated":
            assert f"not evaluated: {s.reason}" in out
            assert "not evaluated (no pass claimed): " in out


def test_cli_fails_when_a_classifier_has_no_labels(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--seconds", "3", "--underlyings", "SPY"]) == 1
    out = capsys.readouterr().out
    assert "no labels" in out
    assert "FAIL: " in out


def test_cli_require_all_fails_while_classifiers_are_unevaluated(capsys: pytest.CaptureFixture[str]) -> None:
    unevaluated = any(s.status == "not evaluated" for s in default_run().scores)
    assert main(["evaluate", "--require-all"]) == (1 if unevaluated else 0)
    capsys.readouterr()


@pytest.mark.parametrize("value", ["1.5", "-0.1"], ids=["above-one", "negative"])
def test_cli_rejects_a_bad_minimum(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--min", value]) == 2
    assert "--min must be within [0, 1]" in capsys.readouterr().err


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--seed",
        "--profile",
        "--seconds",
        "--min",
        "--max-false-alerts",
        "--plant-every-s",
        "--require-all",
    ):
        assert option in out


# ---------------------------------------------------------------------------------- the engine probe


def test_probe_finds_every_input_fed_by_the_engine() -> None:
    assert engine_support(CFG) == {}, "the options engine feeds open interest, volumes and repeated-hit runs"
    unevaluated = {s.classifier for s in default_run().scores if s.status == "not evaluated"}
    assert not unevaluated & set(PACKET_CLASSIFIERS)


def test_probe_reports_a_classifier_whose_input_is_missing() -> None:
    # A flow that drops open interest on the floor: the probe notices and evaluate reports, never passes.
    config = CFG.model_copy(update={"golden_sweep_min_premium_usd": 10**12})
    assert "golden_sweep" in engine_support(config)


def test_probe_tape_fires_every_engine_fed_classifier_given_its_inputs() -> None:
    # The probe is not vacuous: with the inputs filled the way the engine must fill them, all four fire on it.
    tape = _probe_tape()
    engine = OptionsEngine(CFG)
    packets = [o for o in engine.on_events(tape) + engine.on_eof() if isinstance(o, Packet)]
    oi = {e.symbol: e.open_interest_contracts for e in tape if isinstance(e, OpenInterest)}
    detector = RepeatedHits.from_config(CFG)
    volume: dict[tuple[str, object], int] = defaultdict(int)
    fired = set()
    for p in packets:
        volume[(p.symbol, session_date(p.ts_event))] += p.size_contracts
        ctx = PacketContext(
            open_interest_contracts=oi.get(p.symbol),
            day_volume_contracts=volume[(p.symbol, session_date(p.ts_event))],
            repeat_run=detector.step(p),
        )
        fired |= {h.classifier for h in classify_packet(p, ctx, CFG)}
    assert set(ENGINE_INPUTS) <= fired


# ----------------------------------------------------------------------------------------- scoring


def label(
    print_ids: tuple[str, ...],
    expected: tuple[str, ...] = (),
    forbidden: tuple[str, ...] = (),
    *,
    scenario: str = "call_sweep",
    direction: str | None = "bullish",
) -> PlantedLabel:
    return PlantedLabel(
        scenario=scenario,
        underlying="SPY",
        symbol=CALL,
        ts_start=1,
        ts_end=2,
        side="buy",
        expected_kind="sweep",
        expected_classifiers=expected,
        print_ids=print_ids,
        forbidden_classifiers=forbidden,
        expected_direction=direction,  # type: ignore[arg-type]
        description="planted",
    )


def hit_on(print_ids: tuple[str, ...], classifier: str = "large_sweep", symbol: str = CALL) -> ClassifierHit:
    (h,) = classify_packet(packet(symbol, print_ids=print_ids), PacketContext(), CFG)
    return h.model_copy(update={"classifier": classifier})


def test_score_hits_counts_each_outcome() -> None:
    labels = [
        label(("a1", "a2"), expected=("large_sweep",)),  # hit: true positive
        label(("b1",), expected=("large_sweep",)),  # nothing fires: a miss
        label(("c1",), forbidden=("large_sweep",), scenario="tiny_lots"),  # fires: a false positive
        label(("d1",)),  # fires, neither expected nor forbidden: incidental
    ]
    hits = [
        hit_on(("a2", "x")),
        hit_on(("c1",)),
        hit_on(("d1",)),
        hit_on(("background",)),
        hit_on(("a1",), symbol=PUT),  # a put bought reads bearish: direction disagrees
    ]
    ev = score_hits(labels, hits, unavailable={}, classifiers=("large_sweep",))
    s = ev.score("large_sweep")
    assert (s.expected, s.recalled, s.forbidden) == (2, 1, 1)
    # The hit on background is a false positive like the one on the hard negative.
    assert (s.hits, s.true_positives, s.false_positives, s.incidental, s.background) == (5, 2, 2, 1, 1)
    assert (s.recall, s.precision) == (0.5, 0.5)
    assert (s.direction_checked, s.direction_agreed) == (2, 1)
    assert s.status == "below"
    assert s.alert_tally is None, "no alerts given: alerts not scored"
    assert [(m.classifier, m.label.print_ids, m.fired) for m in ev.misses] == [("large_sweep", ("b1",), ())]
    assert [fp.hit.evidence_ids for fp in ev.false_positives] == [("c1",), ("background",)]
    assert ev.failed == (s,)
    assert ev.hard_negatives == 1
    text = "\n".join(report(ev))
    assert "FAIL: large_sweep (below)" in text
    assert "tiny_lots" in text, "false positives name the scenario"
    assert "planted" in text, "misses cite what was planted"


@pytest.mark.parametrize(
    ("labels", "unavailable", "status"),
    [
        pytest.param([label(("a",), expected=("large_sweep",))], {}, "ok", id="ok"),
        pytest.param([label(("a",), expected=("large_sweep",))], {"large_sweep": "X"}, "not evaluated", id="no-input"),
        pytest.param([label(("a",))], {}, "no labels", id="no-labels"),
    ],
)
def test_score_hits_status(labels: list[PlantedLabel], unavailable: dict[str, str], status: str) -> None:
    ev = score_hits(labels, [hit_on(("a",))], unavailable=unavailable, classifiers=("large_sweep",))
    s = ev.score("large_sweep")
    assert s.status == status
    if status == "not evaluated":
        assert s.reason == "engine does not provide X yet"
        assert not ev.misses
        assert not ev.failed, "not evaluated is not a failure (and not a pass)"
        assert "not evaluated (no pass claimed): large_sweep" in "\n".join(report(ev))


def test_classifiers_without_planted_scenarios_are_not_evaluated() -> None:
    structure_hit = hit_on(("s1",), classifier="vertical_spread")
    ev = score_hits([label(("a",), expected=("large_sweep",))], [structure_hit], unavailable={})
    s = ev.score("vertical_spread")
    assert (s.status, s.reason, s.background) == ("not evaluated", "no planted scenario for it yet", 1)
    assert s not in ev.failed


def structure_label(print_ids: tuple[str, ...], expected: tuple[str, ...] = ("vertical_spread",)) -> PlantedLabel:
    truth = StructureTruth((CALL, PUT), "vertical" if expected else None, False, "debit", "planted")
    forbidden = tuple(c for c in STRUCTURE_CLASSIFIERS if c not in expected)
    return dataclasses.replace(
        label(print_ids, expected, forbidden, scenario="vertical_debit"), structure=truth, description="spread"
    )


@pytest.mark.parametrize(
    ("classifier", "labels", "result"),
    [
        pytest.param("large_sweep", [], "fp", id="background"),
        pytest.param("large_sweep", [label(("a",), ("large_sweep",))], "tp", id="expected"),
        pytest.param("large_sweep", [label(("a",), (), ("large_sweep",))], "fp", id="forbidden"),
        pytest.param("unusual_spike", [label(("a",))], "incidental", id="undecided-packet-classifier"),
        pytest.param("vertical_spread", [label(("a",))], "fp", id="structure-on-a-single-contract-label"),
        pytest.param("vertical_spread", [label(("a",)), structure_label(("a",))], "tp", id="structure-label"),
        pytest.param("absorbed_block", [label(("a",))], "fp", id="dark-on-an-options-label"),
    ],
)
def test_outcome(classifier: str, labels: list[PlantedLabel], result: str) -> None:
    assert outcome(classifier, labels) == result


def alert_on(
    evidence: tuple[str, ...], classifiers: tuple[str, ...], *, subjects: tuple[str, ...] = ("p1",), n: int = 0
) -> Alert:
    return Alert.model_construct(
        id=f"alert-{n}",
        classifiers=classifiers,
        evidence_ids=evidence,
        subject_ids=subjects,
        symbol=CALL,
        score=50,
        headline="an alert",
        ts_first=n,
    )


def test_alerts_are_scored_per_classifier_and_per_underlying_hour() -> None:
    labels = [
        label(("a1", "a2"), expected=("large_sweep",)),
        label(("c1",), forbidden=("large_sweep", "block_trade"), scenario="tiny_lots"),
        label(("d1",), expected=("block_trade",)),
    ]
    alerts = [
        alert_on(("a2", "x"), ("large_sweep", "unusual_spike"), n=1),  # true: a classifier it names is expected
        alert_on(("c1",), ("large_sweep", "block_trade"), n=2),  # false: only forbidding labels
        alert_on(("bg1", "bg2"), ("large_sweep",), n=3),  # false: background
        alert_on(("c1",), ("unusual_spike",), n=4),  # incidental: the label leaves it undecided
    ]
    ev = score_hits(labels, [hit_on(("a1",))], unavailable={}, classifiers=("large_sweep",), alerts=alerts,
                    underlying_hours=2.0)  # fmt: skip
    sweep = ev.score("large_sweep").alert_tally
    assert sweep is not None
    assert (sweep.scored, sweep.true_positives, sweep.false_positives, sweep.background) == (3, 1, 2, 1)
    assert (sweep.expected, sweep.recalled, sweep.recall, sweep.precision) == (1, 1, 1.0, 1 / 3)
    block = ev.score("block_trade").alert_tally
    assert block is not None
    assert (block.recalled, block.expected, block.false_positives) == (0, 1, 1)
    assert ev.score("large_sweep").status == "below", "the alerts' precision counts"
    assert (ev.alerts, ev.true_alerts, [fa.alert.id for fa in ev.false_alerts]) == (4, 1, ["alert-2", "alert-3"])
    assert ev.false_alerts_per_underlying_hour == 1.0
    assert not ev.noisy
    assert dataclasses.replace(ev, max_false_alerts_per_hour=0.5).noisy
    text = "\n".join(report(ev))
    assert "false alerts per underlying-hour: 1.00 over 2.00 underlying-hours (maximum 1)" in text
    assert "false alerts (2):" in text


def test_a_structure_read_as_separate_leg_alerts_is_not_folded() -> None:
    spread = structure_label(("l1", "l2"))
    legs = [label(("l1",), ("block_trade",)), label(("l2",), ("block_trade",), scenario="vertical_debit")]
    structure_alert = alert_on(("l1", "l2"), ("vertical_spread",), subjects=("s1",), n=1)
    leg_alone = alert_on(("l1",), ("block_trade",), subjects=("p1",), n=2)
    leg_citing = alert_on(("l2",), ("block_trade",), subjects=("p2", "s1"), n=3)
    kwargs = {"unavailable": {}, "structure_ids": frozenset({"s1"}), "underlying_hours": 1.0}
    apart = score_hits([spread, *legs], [], alerts=[structure_alert, leg_alone, leg_citing], **kwargs)  # type: ignore[arg-type]
    assert (apart.structures_alerted, apart.unfolded) == (1, (spread,))
    folded = score_hits([spread, *legs], [], alerts=[structure_alert, leg_citing], **kwargs)  # type: ignore[arg-type]
    assert (folded.structures_alerted, folded.unfolded) == (1, ())


def test_replaced_labels_keep_the_dataclass_contract() -> None:
    # PlantedLabel stays a frozen dataclass with defaults for the new fields (older callers keep working).
    old_style = PlantedLabel("block", "SPY", CALL, 1, 1, "buy", "block", ("block_trade",), ("p",))
    assert (old_style.forbidden_classifiers, old_style.expected_direction, old_style.description) == ((), None, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        old_style.scenario = "x"  # type: ignore[misc]


def _stealth(evidence: tuple[str, ...]) -> DarkHit:
    from events.models import DarkInference

    inference = DarkInference.model_construct(
        kind="stealth_accumulation", evidence_ids=evidence, direction="bullish", underlying="SPY", explanations=()
    )
    return DarkHit.of(inference)


def test_dark_inference_counts_for_the_label_of_its_trigger_print() -> None:
    first = label(("a1", "a2", "a3", "a4"), ("stealth_accumulation",), scenario="stealth_accumulation")
    cooldown = label(("b1", "b2", "b3", "b4"), (), ("stealth_accumulation",), scenario="cooldown_run")
    right = score_hits([first, cooldown], [_stealth(("a1", "a2", "a3", "a4"))], unavailable={})
    assert right.score("stealth_accumulation").true_positives == 1
    # Raised again during the cooldown: it cites the first run's prints too, but its trigger is the second run's.
    wrong = score_hits(
        [first, cooldown],
        [_stealth(("a1", "a2", "a3", "a4")), _stealth(("a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"))],
        unavailable={},
    )
    assert wrong.score("stealth_accumulation").false_positives == 1
