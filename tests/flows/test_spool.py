"""The replay's spool: derived events come back as the same sorted lines whether they fit in memory or were
spilled into many runs, and a replay through it writes the bytes an in-memory sort writes."""

from __future__ import annotations

import functools
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flows.spool
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.models import DerivedEvent
from events.serde import to_json_line
from events.topics import DERIVED_TOPICS, topic_for
from flows.inputs import InputStats
from flows.replay import replay_into, run_events, write_outputs
from flows.spool import Spool, sort_key

MARKET = SyntheticConfig(seed=5, profile="active", duration_s=20)


@functools.cache
def _derived() -> tuple[DerivedEvent, ...]:
    """A session's derived events in the order the flow emitted them (by topic, then sort order undone)."""
    by_topic = run_events(lambda: SyntheticMarket(MARKET).events())
    events = [event for items in by_topic.values() for event in items]
    # Interleave topics and undo the sort: the spool must not rely on any arrival order.
    return tuple(sorted(events, key=lambda e: (e.id[::-1], e.event_type)))


@settings(max_examples=25, deadline=None)
@given(
    run_lines=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
    duplicate=st.booleans(),
)
def test_lines_come_back_sorted_whatever_the_runs(
    tmp_path_factory: pytest.TempPathFactory, run_lines: int, cuts: list[int], duplicate: bool
) -> None:
    events = list(_derived())
    if duplicate:  # ties on (ts_event, id, revision) keep arrival order, as the stable sort of the models does
        events = events[:50] + events[:50] + events[50:]
    spool = Spool(tmp_path_factory.mktemp("spool"), run_lines=run_lines)
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    for start, end in pairwise(bounds):
        spool.add(events[start:end])
    if len(events) > run_lines:
        assert spool.run_files > 0, "the spool spilled"
    for topic in DERIVED_TOPICS:
        expected = [
            to_json_line(e) + "\n"
            for e in sorted((e for e in events if topic_for(e.event_type) == topic), key=sort_key)
        ]
        assert list(spool.lines(topic)) == expected, topic
        assert spool.counts.get(topic, 0) == len(expected)


def test_a_replay_through_a_spilling_spool_writes_the_bytes_of_an_in_memory_sort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows.spool, "RUN_LINES", 37)
    spooled = replay_into(tmp_path / "spooled", lambda: SyntheticMarket(MARKET).events(), InputStats())
    held = write_outputs(tmp_path / "held", run_events(lambda: SyntheticMarket(MARKET).events()), InputStats())
    assert spooled == held
    assert sum(held.values()) > 37 * 3, "enough events to spill several runs"
    for topic in DERIVED_TOPICS:
        name = f"{topic}.jsonl"
        assert (tmp_path / "spooled" / name).read_bytes() == (tmp_path / "held" / name).read_bytes(), topic
    assert sorted(p.name for p in (tmp_path / "spooled").iterdir()) == sorted(
        p.name for p in (tmp_path / "held").iterdir()
    ), "the scratch directory is gone"


def test_run_lines_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="run_lines"):
        Spool(tmp_path, run_lines=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            # Few distinct values of each part, of every digit count, so that keys collide part by part.
            st.sampled_from([9, 10, 99, 100, 1_772_461_800_000_000_000, 2**63 - 1]) | st.integers(0, 2**63 - 1),
            st.sampled_from(["0a", "0a1", "f", "9e"]),
            st.sampled_from([0, 1, 9, 10, 11, 100, 2**63 - 1]) | st.integers(0, 2**63 - 1),
            st.sampled_from(['{"a":1}', '{"a":2}', '{"b":10}']),
        ),
        max_size=40,
    )
)
def test_lines_compared_as_text_are_in_key_order(rows: list[tuple[int, str, int, str]]) -> None:
    # The merges compare whole lines as strings (no key function): that must order by (ts_event, id, revision)
    # as numbers and text, then by the JSON, whatever the digit counts (revision 9 before 10).
    keyed = [((ts, event_id, revision), line) for ts, event_id, revision, line in rows]
    formatted = list(flows.spool._formatted(keyed))
    assert sorted(formatted) == list(flows.spool._formatted(sorted(keyed)))
