"""The alert stream on a tape the project never tuned for: an OPRA `tcbbo` file written by `unseen_opra` (its own
pricing, background and planted patterns; nothing from the synthetic market or the rule settings), replayed the
way a user replays a Databento file. A trader wants every planted pattern found, one story per pattern, and
next to nothing else."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from connectors.databento.files import read_dbn
from flows.replay import replay_files
from tests.flows.unseen_opra import SECONDS, SPOTS, Planted, Tape, write_unseen_tape

MAX_FALSE_ALERTS_PER_UNDERLYING_HOUR = 1.0


class Replayed:
    def __init__(self, tape: Tape, out: Path) -> None:
        self.tape = tape
        ids = {(e.symbol, e.ts_event): e.id for e in read_dbn(tape.path) if e.event_type == "option_print"}
        self.owner: dict[str, Planted] = {ids[key]: p for p in tape.planted for key in p.prints}
        latest: dict[str, dict[str, Any]] = {}
        with (out / "flow.alerts.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                alert = json.loads(line)
                held = latest.get(alert["id"])
                if held is None or alert["revision"] > held["revision"]:
                    latest[alert["id"]] = alert
        self.alerts = list(latest.values())
        self.lines = (out / "flow.alerts.jsonl").read_text(encoding="utf-8").splitlines()

    def patterns_of(self, alert: dict[str, Any]) -> set[str]:
        return {self.owner[i].name for i in alert["evidence_ids"] if i in self.owner}

    def by_pattern(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for alert in self.alerts:
            for name in self.patterns_of(alert):
                out[name].append(alert)
        return out

    def false_alerts(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if not any(self.owner[i].wanted for i in a["evidence_ids"] if i in self.owner)]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    root = tmp_path_factory.mktemp("unseen")
    tape = write_unseen_tape(root / "opra-unseen.tcbbo.dbn.zst")
    result = replay_files([tape.path], root / "out")
    assert result.events_in["option_print"] == tape.records
    return Replayed(tape, root / "out")


def test_the_tape_is_the_outside_evaluators_shape(replayed: Replayed) -> None:
    tape = replayed.tape
    assert len(SPOTS) == 6
    assert tape.records > 20 * SECONDS, "about 25 background prints a second"
    assert sum(p.wanted for p in tape.planted) == 10


@pytest.mark.parametrize(
    "name",
    [
        "call sweep",
        "put sweep",
        "block",
        "call overwrite",
        "put write",
        "vertical",
        "straddle",
        "repeated hits",
        "0DTE",
        "golden sweep",
    ],
)
def test_every_planted_pattern_is_found_by_the_classifier_a_trader_expects(replayed: Replayed, name: str) -> None:
    (planted,) = [p for p in replayed.tape.planted if p.name == name]
    alerts = replayed.by_pattern().get(name, [])
    found = {c for a in alerts for c in a["classifiers"]}
    assert found & planted.expects, f"{name}: alerts {[a['headline'] for a in alerts]}"


def test_a_pattern_reads_one_way(replayed: Replayed) -> None:
    """A spread is one story: no bullish leg alert beside a bearish one."""
    for name, alerts in replayed.by_pattern().items():
        directions = {a["direction"] for a in alerts} - {"neutral"}
        assert len(directions) <= 1, f"{name}: {[a['headline'] for a in alerts]}"


def test_hard_negatives_raise_nothing(replayed: Replayed) -> None:
    negatives = {p.name for p in replayed.tape.planted if not p.wanted}
    flagged = {name: alerts for name, alerts in replayed.by_pattern().items() if name in negatives}
    assert not flagged, {name: [a["headline"] for a in alerts] for name, alerts in flagged.items()}


def test_background_raises_at_most_one_alert_per_underlying_hour(replayed: Replayed) -> None:
    underlying_hours = len(SPOTS) * SECONDS / 3600
    false = replayed.false_alerts()
    rate = len(false) / underlying_hours
    assert rate <= MAX_FALSE_ALERTS_PER_UNDERLYING_HOUR, (
        f"{len(false)} false alerts over {underlying_hours:.1f} underlying-hours: {[a['headline'] for a in false]}"
    )
