"""`[decode]`: how many raw messages per second `events.serde.decode` turns into events.

The synthetic tape's raw events are encoded once to JSON bytes as the Kafka topics carry them
(`events.serde.encode`, on the topic of their type), then decoded with `events.serde.decode(topic, bytes)`, best
of N runs: per event type (option prints without and with the NBBO at trade, option NBBO quotes, equity prints,
equity quotes) and overall on the tape's own mix of those types, in tape order. The target: at least 300k
messages/s overall on one core.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from itertools import islice

from cli.bench.throughput import nbbo_at_trade
from events.models import AnyEvent, OptionPrint
from events.serde import decode, encode
from events.topics import topic_for

KINDS = ("option_print", "option_print_tcbbo", "option_nbbo", "equity_print", "equity_quote")
"""The message kinds timed, by event type (`option_print_tcbbo`: option prints carrying the NBBO at trade)."""
RAW_TYPES = frozenset({"option_print", "option_nbbo", "equity_print", "equity_quote"})

Message = tuple[str, bytes]


def kind_of(event: AnyEvent) -> str:
    """Return the message kind of a raw event (`KINDS`)."""
    if isinstance(event, OptionPrint) and event.nbbo_ask_e9 is not None:
        return "option_print_tcbbo"
    return event.event_type


def messages(events: Sequence[AnyEvent], per_kind: int, mixed: int) -> tuple[dict[str, list[Message]], list[Message]]:
    """Return up to `per_kind` messages of each kind, and up to `mixed` of the tape in order (quote stream form),
    each as (topic, JSON bytes)."""
    raw = [e for e in events if e.event_type in RAW_TYPES]
    by_kind: dict[str, list[Message]] = {kind: [] for kind in KINDS}
    for event in (*raw, *(e for e in nbbo_at_trade(raw) if isinstance(e, OptionPrint))):
        sample = by_kind[kind_of(event)]
        if len(sample) < per_kind:
            sample.append((topic_for(event.event_type), encode(event)))
    tape = [(topic_for(e.event_type), encode(e)) for e in islice(raw, mixed)]
    return by_kind, tape


def decode_all(batch: Sequence[Message]) -> int:
    """Decode every message; return how many."""
    for topic, data in batch:
        decode(topic, data)
    return len(batch)


def best_seconds(batch: Sequence[Message], repeat: int) -> float:
    """Return the best wall seconds of decoding `batch` over `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        decode_all(batch)
        best = min(best, time.perf_counter() - started)
    return best


def _line(label: str, count: int, seconds: float, note: str) -> str:
    rate = count / seconds if seconds > 0 else 0.0
    return f"  {label:<18} : {rate:>10,.0f} msgs/s  ({seconds / count * 1e6:.2f} us/msg, {note})"


def run_decode(events: Sequence[AnyEvent], repeat: int, per_kind: int, mixed: int) -> bool:
    """Print the `[decode]` section; return whether every kind had messages to time."""
    by_kind, tape = messages(events, per_kind, mixed)
    print(f"[decode] raw messages as JSON bytes on their Kafka topics, through events.serde.decode, best of {repeat}")
    ok = True
    for kind in KINDS:
        sample = by_kind[kind]
        if not sample:
            print(f"  {kind:<18} : no messages of this kind on the tape")
            ok = False
            continue
        size = sum(len(data) for _, data in sample) / len(sample)
        print(_line(kind, len(sample), best_seconds(sample, repeat), f"{len(sample):,} msgs of {size:.0f} bytes"))
    if tape:
        print(_line("overall", len(tape), best_seconds(tape, repeat), f"{len(tape):,} msgs in tape order"))
    else:
        ok = False
    return ok
