"""Ingest flow: the synthetic market or recorded files -> raw Kafka topics, keyed by underlying.

Run: `python -m bytewax.run flows.ingest`. `FLOWTAPE_INGEST_SOURCE=synthetic` (default; paced by
`FLOWTAPE_INGEST_SPEED`, 0 = as fast as possible) or `files` with `FLOWTAPE_INGEST_FILES=a.dbn.zst:b.jsonl`.

A file that cannot be read is one line on stderr and exit code 2, never a Rust panic: what can be checked before
any work (missing, empty, not DBN, DBN metadata cut short or corrupt) is refused before the flow starts; what only
reading finds (a corrupt record, a truncated tail) stops the reader inside the source, the events read before it
are still written, and the process then exits 2 with the line (`InputStats.error`). JSONL lines that cannot become
events are published, each with its reason and its file and line (`DeadLetter.topic`), to `ingest.input.dlq`
(namespaced like the raw topics) in their place in the stream, and counted in one line when the flow ends.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.bytewax_io import IterableSource
from connectors.kafka.io import dead_letter_output, kafka_output
from connectors.kafka.messages import dead_letter_message
from connectors.settings import Settings
from events.models import AnyEvent, DeadLetter
from events.topics import INGEST_INPUT, dlq, namespaced
from flows.collector import tune_collector
from flows.inputs import InputError, InputStats, check_inputs, guarded, read_inputs
from flows.metrics import serve_metrics
from flows.topic_setup import ensure_flow_topics


def input_files(settings: Settings) -> list[Path]:
    """The recorded files of `FLOWTAPE_INGEST_FILES`, checked (`InputError` names the first that cannot be read)."""
    paths = [Path(p) for p in settings.ingest_files.split(os.pathsep) if p]
    if not paths:
        raise InputError("FLOWTAPE_INGEST_FILES", "FLOWTAPE_INGEST_SOURCE=files needs at least one file")
    check_inputs(paths)
    return paths


def source_events(
    settings: Settings, stats: InputStats | None = None, files: list[Path] | None = None
) -> Iterator[AnyEvent]:
    """Yield the configured raw events in event-time order.

    For recorded files (`files`, when already checked by `input_files`) a reading failure ends the stream and is
    noted in `stats.error` (an exception raised in a Bytewax source would abort the flow with a Rust panic); the
    caller reports it.
    """
    if settings.ingest_source == "files":
        stats = stats if stats is not None else InputStats()
        paths = files if files is not None else input_files(settings)
        yield from guarded(read_inputs(paths, stats), stats)
        return
    from connectors.synthetic import SyntheticConfig, SyntheticMarket, iter_paced

    market = SyntheticMarket(
        SyntheticConfig(
            seed=settings.synthetic_seed,
            profile=settings.synthetic_profile,
            underlyings=settings.universe,
            duration_s=settings.synthetic_duration_s,
        ),
        keep_truth=False,
    )
    yield from iter_paced(market.events(), settings.ingest_speed)


def with_dead_letters(events: Iterable[AnyEvent], stats: InputStats) -> Iterator[AnyEvent | DeadLetter]:
    """Yield `events` with the dead letters the readers add to `stats` meanwhile, each after the event read
    before it (a dead letter is yielded once and counted in `stats.dead_letters_by_error`, then let go)."""
    letters = stats.dead_letters
    for event in events:
        if letters:
            yield from _taken(letters, stats)
        yield event
    if letters:
        yield from _taken(letters, stats)


def _taken(letters: list[DeadLetter], stats: InputStats) -> list[DeadLetter]:
    taken = letters[:]
    letters.clear()
    stats.published_dead_letters.update(letter.error for letter in taken)
    return taken


def _events_only(items: list[AnyEvent | DeadLetter]) -> list[AnyEvent]:
    return [item for item in items if type(item) is not DeadLetter]  # type: ignore[misc]


def _dead_letters_only(items: list[AnyEvent | DeadLetter]) -> list[DeadLetter]:
    return [item for item in items if type(item) is DeadLetter]


def build_flow(settings: Settings | None = None, stats: InputStats | None = None) -> Dataflow:
    """Build the ingest flow: recorded files are checked first (`InputError`), then missing raw topics are created.

    `stats` (recorded files) collects what the readers saw, and the error that stopped one, if any.
    """
    settings = settings or Settings()
    tune_collector(settings.gc_threshold)
    serve_metrics(settings.api_host, settings.metrics_port)
    # Refused before any work, broker included; the source reads the files checked here.
    files = input_files(settings) if settings.ingest_source == "files" else None
    ensure_flow_topics(settings)
    flow = Dataflow("flowtape_ingest")
    batch = 256 if settings.ingest_source == "synthetic" and settings.ingest_speed > 0 else 4096
    counted = stats if stats is not None else InputStats()
    source = IterableSource(
        lambda: with_dead_letters(source_events(settings, counted, files), counted), batch_size=batch
    )
    items = op.input("read_source", flow, source)
    # Split by two batch steps (one call per batch each), not a branch (one call per event).
    events = op.flat_map_batch("events", items, _events_only)
    letters = op.flat_map_batch("dead_letters", items, _dead_letters_only)
    kafka_output("write_raw_topics", events, settings.kafka_bootstrap, settings.namespace)
    topic = namespaced(dlq(INGEST_INPUT), settings.namespace)
    messages = op.map("to_dlq_message", letters, lambda letter: dead_letter_message(letter, topic=topic))
    dead_letter_output("write_input_dead_letters", messages, settings.kafka_bootstrap)
    return flow


def report(stats: InputStats) -> int:
    """Say in one line each what the readers could not take; return the exit code (2 when a file failed)."""
    letters = stats.dead_letters_by_error
    if letters:
        print(f"flows.ingest: {sum(letters.values()):,} lines could not become events (on {dlq(INGEST_INPUT)}): "
              f"{letters}", file=sys.stderr)  # fmt: skip
    if stats.error is not None:
        print(f"flows.ingest: error: {stats.error}", file=sys.stderr)
        return 2
    return 0


def _exit_with_report(stats: InputStats) -> None:
    """At interpreter exit (after `python -m bytewax.run` has run the flow): report, and exit 2 on a failed file."""
    code = report(stats)
    if code:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def __getattr__(name: str) -> Dataflow:
    if name == "flow":
        stats = InputStats()
        try:
            flow = build_flow(stats=stats)
        except (InputError, OSError, ValueError) as exc:  # a file that cannot be read, or no file at all
            print(f"flows.ingest: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        atexit.register(_exit_with_report, stats)
        return flow
    raise AttributeError(name)
