"""The stream routes (`api/routes/streams.py`) over a real embedded store holding a replay's raw and derived
events: every stream answers, filters hold, and paging through latest, history, replay and range reads returns
each stored event exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.streams import STREAMS
from connectors.clickhouse.store import EmbeddedStore
from events.models import AnyEvent
from events.topics import topic_for
from flows.replay import run_events
from tests.flows.tapes import two_underlying_tape


@pytest.fixture
def stored(store: EmbeddedStore) -> dict[str, list[Any]]:
    tape: list[AnyEvent] = two_underlying_tape()
    by_topic: dict[str, list[Any]] = {}
    for event in tape:
        by_topic.setdefault(topic_for(event.event_type), []).append(event)
    for topic, items in run_events(lambda: tape).items():
        by_topic.setdefault(topic, []).extend(items)
    for topic, items in by_topic.items():
        store.insert(topic, items)
    return by_topic


def _walk(client: TestClient, path: str, **params: Any) -> list[str]:
    direction = "after" if "after" in params or "from_ns" in params else "before"
    seen: list[str] = []
    query = dict(params, limit=3)
    while True:
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(item["id"] for item in body["items"])
        if body["next_cursor"] is None:
            return seen
        query = {k: v for k, v in query.items() if k not in ("before", "after")} | {direction: body["next_cursor"]}
        assert len(seen) < 500, "the cursor does not advance"


@pytest.mark.parametrize("stream", STREAMS, ids=[s.path for s in STREAMS])
def test_every_stream_answers_an_empty_page(client: TestClient, stream: Any) -> None:
    assert client.get(f"/{stream.path}").json() == {"items": [], "next_cursor": None}


def test_packets_page_newest_first_replay_oldest_first_each_once(
    client: TestClient, stored: dict[str, list[Any]]
) -> None:
    packets = stored["flow.packets"]
    newest_first = [p.id for p in sorted(packets, key=lambda p: (p.ts_event, p.id), reverse=True)]
    assert len(newest_first) > 3, "more than one page"
    assert _walk(client, "/packets") == newest_first
    assert _walk(client, "/packets", from_ns=0) == newest_first[::-1]
    qqq = [i for i in newest_first if next(p for p in packets if p.id == i).underlying == "QQQ"]
    assert qqq
    assert _walk(client, "/packets", underlying="QQQ") == qqq


def test_the_raw_and_derived_streams_serve_what_the_store_holds(
    client: TestClient, stored: dict[str, list[Any]]
) -> None:
    for path, topic in (
        ("prints/options", "options.prints"),
        ("quotes/options", "options.nbbo"),
        ("hits", "flow.hits"),
    ):
        assert sorted(_walk(client, f"/{path}")) == sorted({e.id for e in stored[topic]}), path


def test_bad_cursors_and_filter_values_are_400(client: TestClient) -> None:
    assert client.get("/packets", params={"before": "not-a-cursor"}).status_code == 400
    assert client.get("/packets", params={"underlying": "SPY'; DROP"}).status_code == 400
    page = client.get("/packets", params={"before": "x", "after": "y"})
    assert page.status_code == 400
