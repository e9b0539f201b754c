"""The store sink: a row the store refuses is set aside with its reason, the rest stored; an outage is waited out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from pydantic import BaseModel

from connectors.bytewax_io import StoreSink
from connectors.clickhouse.store import Refused, StoreError, StoreUnavailable
from tests.factories import trade


class FakeStore:
    """Refuses rows whose id is in `bad` (a data error), and is down for the first `outages` inserts."""

    def __init__(self, bad: set[str], outages: int = 0) -> None:
        self.bad = bad
        self.outages = outages
        self.rows: dict[str, BaseModel] = {}
        self.calls = 0

    def insert(self, topic: str, events: Sequence[BaseModel]) -> int:
        self.calls += 1
        if self.outages:
            self.outages -= 1
            raise StoreUnavailable("connection refused")
        if any(getattr(e, "id", "") in self.bad for e in events):
            raise StoreError("Value out of range for Int64")
        for event in events:
            self.rows[event.id] = event  # type: ignore[attr-defined]
        return len(events)


def _run(
    store: FakeStore, items: list[BaseModel], sleep: Callable[[float], None] = time.sleep
) -> list[tuple[str, list[Refused]]]:
    refused: list[tuple[str, list[Refused]]] = []
    sink: StoreSink[BaseModel] = StoreSink(
        store, batch_rows=1_000, on_refused=lambda t, r: refused.append((t, r)), sleep=sleep
    )
    flow = Dataflow("store_sink_test")
    op.output("out", op.input("in", flow, TestingSource(items)), sink)
    run_main(flow)  # type: ignore[no-untyped-call]
    return refused


def test_a_refused_row_is_set_aside_and_the_rest_of_its_batch_stored() -> None:
    prints = [trade(i, "2.45", 1 + i) for i in range(37)]
    bad = {prints[3].id, prints[30].id}
    store = FakeStore(bad)
    refused = _run(store, list(prints))
    assert [(topic, sorted(e.id for e, _ in rows)) for topic, rows in refused] == [("options.prints", sorted(bad))]
    assert all("Int64" in reason for _, rows in refused for _, reason in rows)
    assert set(store.rows) == {p.id for p in prints} - bad


def test_an_outage_is_waited_out_with_backoff_and_nothing_is_refused() -> None:
    prints = [trade(i, "2.45", 1) for i in range(5)]
    store = FakeStore(set(), outages=3)
    waits: list[float] = []
    refused = _run(store, list(prints), sleep=waits.append)
    assert refused == []
    assert set(store.rows) == {p.id for p in prints}
    assert waits == [0.5, 1.0, 2.0]


def test_rows_left_waiting_by_a_quiet_stream_are_flushed_on_time() -> None:
    # A live tail that goes quiet calls the sink no more: what waits must still reach the store within flush_s.
    store = FakeStore(bad=set())
    sink: StoreSink[BaseModel] = StoreSink(store, batch_rows=1_000, flush_s=0.05)
    part = sink.build("store", 0, 1)
    try:
        part.write_batch([trade(0, "1.00", 1), trade(1, "1.00", 2)])
        assert not store.rows, "below batch_rows and within flush_s: still waiting"
        deadline = time.monotonic() + 5
        while len(store.rows) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(store.rows) == 2, "flushed without another write"
    finally:
        part.close()
