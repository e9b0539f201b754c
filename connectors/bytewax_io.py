"""Bytewax sources and sinks over plain Python iterables and callbacks, for in-process runs.

The Kafka and ClickHouse adapters live beside their clients; these wrap anything iterable (the synthetic
market, DBN files, JSONL files) and any callable, so demo, replay and tests run the same dataflow shape.
"""

from __future__ import annotations

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

from events.topics import topic_for

X = TypeVar("X")
M = TypeVar("M", bound=BaseModel)

DEFAULT_BATCH = 2048


class _IterablePartition(StatefulSourcePartition[X, int], Generic[X]):
    def __init__(self, items: Iterator[X], batch_size: int, resume_at: int, on_batch: Callable[[int], None] | None):
        self._items = items
        self._batch_size = batch_size
        self._offset = resume_at
        self._on_batch = on_batch
        if resume_at:
            # Deterministic sources replay from the start; skip what the recovered state already consumed.
            for _ in islice(self._items, resume_at):
                pass

    def next_batch(self) -> list[X]:
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
    """One-partition source over a deterministic iterable factory, resumable by item offset."""

    def __init__(
        self,
        factory: Callable[[], Iterable[X]],
        *,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._factory = factory
        self._batch_size = batch_size
        self._on_batch = on_batch

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _IterablePartition[X]:
        return _IterablePartition(iter(self._factory()), self._batch_size, resume_state or 0, self._on_batch)


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


class _StorePartition(StatelessSinkPartition[M], Generic[M]):
    def __init__(self, store: Inserter, batch_rows: int, flush_s: float, lock: threading.Lock) -> None:
        self._store = store
        self._batch_rows = batch_rows
        self._flush_s = flush_s
        self._lock = lock
        self._pending: dict[str, list[BaseModel]] = defaultdict(list)
        self._rows = 0
        self._last_flush = time.monotonic()

    def write_batch(self, items: list[M]) -> None:
        for item in items:
            self._pending[table_topic(item)].append(item)
        self._rows += len(items)
        # Wall time only paces I/O here; event data never depends on it.
        if self._rows >= self._batch_rows or time.monotonic() - self._last_flush >= self._flush_s:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            for topic, events in self._pending.items():
                if events:
                    self._store.insert(topic, events)
        self._pending.clear()
        self._rows = 0
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()


def table_topic(item: BaseModel) -> str:
    """Return the store topic of an event: its Kafka topic, or `dead_letters`."""
    event_type = getattr(item, "event_type", "")
    if event_type == "dead_letter":
        return "dead_letters"
    return topic_for(event_type)


class StoreSink(DynamicSink[M], Generic[M]):
    """Buffer events per topic and insert them in columnar batches (by rows or every `flush_s` seconds)."""

    def __init__(self, store: Inserter, *, batch_rows: int = 5000, flush_s: float = 1.0) -> None:
        self._store = store
        self._batch_rows = batch_rows
        self._flush_s = flush_s
        self._lock = threading.Lock()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition[M]:
        return _StorePartition(self._store, self._batch_rows, self._flush_s, self._lock)
