"""Defense in depth around the engines: an event an engine raises on is dead-lettered, and the engine goes on.

Validation at the edge should let nothing through that an engine cannot take; this is for what escapes it (a
value no rule anticipated, a bug). The engine step calls its engine through these functions instead of
directly: the fast path is the engine's own call, with no cost but the iterator it reads the run through.

When the engine raises while consuming a run, the event it was on is known from that iterator (the engine reads
its run once, in order: `TapeEngine._consume`). The culprit is that event, unless the innermost frames of the
traceback hold another raw event (a print held for its quote stream and released by a later quote): then it is
that one. The culprit becomes a dead letter (error `engine_error`, the exception's class and message as
reason, the event as payload), the outputs the run made before it are kept, and the engine consumes the rest of
the run. What the culprit did to the engine's state before it raised stays: an engine cannot be rolled back
without a copy per run, which would cost more than the engine (measured: 12 ms to deep-copy one underlying's
options engine after a 12 s session, against 10 ms to run that session).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

from events.models import (
    AnyEvent,
    DeadLetter,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    VolumeBaseline,
)
from events.serde import to_json_line
from events.topics import topic_for
from operators.quarantine import REJECTED as QUARANTINED
from operators.quarantine import Rejection
from operators.tape_engine import TapeEngine

ENGINE_ERROR = "engine_error"
"""Dead-letter error class of an event an engine raised on."""
MAX_REASON_CHARS = 2_000
_RAW_TYPES = (OptionPrint, OptionNbbo, EquityPrint, EquityQuote, OptionDefinition, OpenInterest, VolumeBaseline)

Out = TypeVar("Out")
log = logging.getLogger(__name__)


class _Run(Sequence[AnyEvent]):
    """A run of events that remembers the iterator the engine reads it through (to tell where it stopped)."""

    def __init__(self, events: Sequence[AnyEvent]) -> None:
        self._events = events if isinstance(events, list) else list(events)
        self._iterator: Iterator[AnyEvent] | None = None

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: Any) -> Any:
        return self._events[index]

    def __iter__(self) -> Iterator[AnyEvent]:
        self._iterator = iter(self._events)
        return self._iterator

    def position(self) -> int:
        """Index of the event the engine was on (the last one it took from the iterator)."""
        if self._iterator is None:
            return 0
        return max(0, len(self._events) - operator.length_hint(self._iterator) - 1)


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def engine_dead_letter(event: AnyEvent, exc: BaseException) -> DeadLetter:
    """The dead letter of an event an engine raised on: its topic and key, the exception as reason."""
    return dead_letter(event, ENGINE_ERROR, f"{type(exc).__name__}: {exc}")


def quarantine_dead_letter(rejection: Rejection) -> DeadLetter:
    """The dead letter of an event the quarantine in front of the engine gave up on (`operators.quarantine`)."""
    return dead_letter(rejection.event, QUARANTINED, rejection.reason)


def dead_letter(event: AnyEvent, error: str, reason: str) -> DeadLetter:
    """The dead letter of a raw event set aside in front of or inside an engine: its topic and key, the reason."""
    reason = " ".join(reason.split())[:MAX_REASON_CHARS]
    try:
        payload = to_json_line(event)
    except Exception:  # an event that cannot even be written is still dead-lettered
        payload = repr(event.__dict__)
    try:
        topic = topic_for(event.event_type)
    except KeyError:
        topic = event.event_type
    return DeadLetter(topic=topic, key=_text(event.key), error=error, reason=_text(reason), payload=_text(payload))


def _culprit(tb: TracebackType | None, fallback: AnyEvent | None) -> AnyEvent | None:
    """The raw event held by the innermost frame of `tb` that holds one, else `fallback`."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames[1:]):  # the first is the guard's own frame
        for value in frame.f_locals.values():
            if isinstance(value, _RAW_TYPES):
                return value
    return fallback


def consume(engine: TapeEngine[Out], runs: Sequence[Sequence[AnyEvent]]) -> list[Out | DeadLetter]:
    """Consume runs of events in order (`on_events` / `on_runs`); an event the engine raises on is dead-lettered
    and the rest of its run consumed."""
    out: list[Any] = []
    for events in runs:
        start = 0
        while start < len(events):
            run = _Run(events[start:] if start else events)
            try:
                engine._consume(run, out)
                break
            except Exception as exc:  # see the module docstring
                at = run.position()
                culprit = _culprit(exc.__traceback__, run[at])
                if culprit is not None:
                    out.append(engine_dead_letter(culprit, exc))
                log.warning("engine raised on %s: %s: %s", getattr(culprit, "id", "?"), type(exc).__name__, exc)
                start += at + 1
    return out


def on_eof(engine: TapeEngine[Out], attempts: int = 1_000) -> list[Out | DeadLetter]:
    """End of input (`on_eof`); a held event the engine raises on is dead-lettered and the rest released."""
    out: list[Any] = []
    for _ in range(attempts):
        try:
            out.extend(engine.on_eof())
            return out
        except Exception as exc:  # see the module docstring
            culprit = _culprit(exc.__traceback__, None)
            log.warning("engine raised at end of input: %s: %s", type(exc).__name__, exc)
            if culprit is None:
                return out  # nothing to set aside: trying again would raise again
            out.append(engine_dead_letter(culprit, exc))
    return out


def on_idle(engine: TapeEngine[Out], now_ns: int) -> list[Out | DeadLetter]:
    """An idle wake-up (`on_idle`); a held event the engine raises on is dead-lettered."""
    try:
        return list(engine.on_idle(now_ns))
    except Exception as exc:  # see the module docstring
        culprit = _culprit(exc.__traceback__, None)
        log.warning("engine raised on an idle wake-up: %s: %s", type(exc).__name__, exc)
        return [engine_dead_letter(culprit, exc)] if culprit is not None else []
