"""Bytewax sources and sinks over plain Python iterables and callbacks, for in-process runs.

The Kafka and ClickHouse adapters live beside their clients; these wrap anything iterable (the synthetic
market, DBN files, JSONL files) and any callable, so demo, replay and tests run the same dataflow shape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Generic, Protocol, TypeVar

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from pydantic import BaseModel

from connectors.clickhouse.store import Refused, StoreUnavailable, insert_or_refuse
from events.topics import topic_for

X = TypeVar("X")
M = TypeVar("M", bound=BaseModel)

DEFAULT_BATCH = 2048
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0

log = logging.getLogger(__name__)

OnRefused = Callable[[str, list[Refused]], None]
"""Told the rows of a topic the store refused, each with its reason (to dead-letter them)."""


class _IterablePartition(StatefulSourcePartition[X, int], Generic[X]):
    def __init__(
        self,
        items: Iterator[X],
        batch_size: int,
        resume_at: int,
        on_batch: Callable[[int], None] | None,
        stop: Callable[[], bool] | None = None,
    ):
        self._items = items
        self._batch_size = batch_size
        self._offset = resume_at
        self._on_batch = on_batch
        self._stop = stop
        if resume_at:
            # Deterministic sources replay from the start; skip what the recovered state already consumed.
            for _ in islice(self._items, resume_at):
                pass

    def next_batch(self) -> list[X]:
        if self._stop is not None and self._stop():
            raise StopIteration  # asked to stop (Ctrl-C): end the input here, as at its end
        batch = list(islice(self._items, self._batch_size))
        if not batch:
            raise StopIteration
        self._offset += len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch))
        return batch

    def next_awake(self) -> datetime | None:
        return None

    def snapshot(self) -> int:
        return self._offset


class IterableSource(FixedPartitionedSource[X, int], Generic[X]):
    """One-partition source over a deterministic iterable factory, resumable by item offset.

    `stop`, read before each batch: when it answers True the input ends there (a Ctrl-C, `cli.interrupt`).
    """

    def __init__(
        self,
        factory: Callable[[], Iterable[X]],
        *,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[int], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        self._factory = factory
        self._batch_size = batch_size
        self._on_batch = on_batch
        self._stop = stop

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _IterablePartition[X]:
        return _IterablePartition(
            iter(self._factory()), self._batch_size, resume_state or 0, self._on_batch, self._stop
        )


class _CallbackPartition(StatelessSinkPartition[X], Generic[X]):
    def __init__(self, callback: Callable[[list[X]], None], lock: threading.Lock, on_close: Callable[[], None] | None):
        self._callback = callback
        self._lock = lock
        self._on_close = on_close

    def write_batch(self, items: list[X]) -> None:
        with self._lock:
            self._callback(items)

    def close(self) -> None:
        if self._on_close is not None:
            with self._lock:
                self._on_close()


class CallbackSink(DynamicSink[X], Generic[X]):
    """Sink that hands each batch to a callback, serialized across workers by one lock."""

    def __init__(self, callback: Callable[[list[X]], None], on_close: Callable[[], None] | None = None) -> None:
        self._callback = callback
        self._on_close = on_close
        self._lock = threading.Lock()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CallbackPartition[X]:
        return _CallbackPartition(self._callback, self._lock, self._on_close)


class Inserter(Protocol):
    """What a store sink needs: insert events of one topic (idempotent on id)."""

    def insert(self, topic: str, events: Sequence[BaseModel]) -> int: ...


def _log_refused(topic: str, refused: list[Refused]) -> None:
    for event, reason in refused:
        log.error("store refused a row of %s (id %s): %s", topic, getattr(event, "id", "?"), reason)


class _StorePartition(StatelessSinkPartition[M], Generic[M]):
    def __init__(
        self,
        store: Inserter,
        batch_rows: int,
        flush_s: float,
        lock: threading.Lock,
        on_refused: OnRefused,
        sleep: Callable[[float], None],
    ) -> None:
        self._store = store
        self._batch_rows = batch_rows
        self._flush_s = flush_s
        self._lock = lock
        self._on_refused = on_refused
        self._sleep = sleep
        self._pending: dict[str, list[BaseModel]] = defaultdict(list)
        self._rows = 0
        self._last_flush = time.monotonic()
        # Bytewax calls a sink only when items arrive: a stream that goes quiet (a live tail) would keep its last
        # rows from the store until the next item. A timer flushes what has waited `flush_s`.
        self._pending_lock = threading.RLock()
        self._closed = threading.Event()
        self._timer = threading.Thread(target=self._flush_when_due, name="flowtape-store-flush", daemon=True)
        self._timer.start()

    def write_batch(self, items: list[M]) -> None:
        with self._pending_lock:
            for item in items:
                self._pending[table_topic(item)].append(item)
            self._rows += len(items)
            # Wall time only paces I/O here; event data never depends on it.
            if self._rows >= self._batch_rows or time.monotonic() - self._last_flush >= self._flush_s:
                self.flush()

    def _flush_when_due(self) -> None:
        while not self._closed.wait(self._flush_s):
            with self._pending_lock:
                if self._rows and time.monotonic() - self._last_flush >= self._flush_s:
                    self.flush()

    def flush(self) -> None:
        with self._pending_lock, self._lock:
            for topic, events in self._pending.items():
                if events:
                    refused = self._insert(topic, events)
                    if refused:
                        self._on_refused(topic, refused)
            self._pending.clear()
            self._rows = 0
            self._last_flush = time.monotonic()

    def _insert(self, topic: str, events: list[BaseModel]) -> list[Refused]:
        """Insert a batch, isolating the rows the store refuses; wait out an outage (backoff, never giving up)."""
        wait_s = RETRY_FIRST_S
        while True:
            try:
                return insert_or_refuse(self._store, topic, events)
            except StoreUnavailable as exc:
                log.warning("store unavailable, retrying %d rows of %s in %.1f s: %s", len(events), topic, wait_s, exc)
                self._sleep(wait_s)
                wait_s = min(RETRY_MAX_S, wait_s * 2)

    def close(self) -> None:
        self._closed.set()
        self._timer.join()
        self.flush()


def table_topic(item: BaseModel) -> str:
    """Return the store topic of an event: its Kafka topic, or `dead_letters`."""
    event_type = getattr(item, "event_type", "")
    if event_type == "dead_letter":
        return "dead_letters"
    return topic_for(event_type)


class StoreSink(DynamicSink[M], Generic[M]):
    """Buffer events per topic and insert them in columnar batches (by rows or every `flush_s` seconds).

    A row the store refuses (a value its types cannot hold) goes to `on_refused` with the reason, and the rest of
    its batch is stored (`insert_or_refuse`); without `on_refused` it is logged. An outage (`StoreUnavailable`)
    is waited out with backoff (`sleep`), the batch kept.
    """

    def __init__(
        self,
        store: Inserter,
        *,
        batch_rows: int = 5000,
        flush_s: float = 1.0,
        on_refused: OnRefused | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._batch_rows = batch_rows
        self._flush_s = flush_s
        self._lock = threading.Lock()
        self._on_refused = on_refused or _log_refused
        self._sleep = sleep

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition[M]:
        return _StorePartition(self._store, self._batch_rows, self._flush_s, self._lock, self._on_refused, self._sleep)
