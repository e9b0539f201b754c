"""GET /alerts over a real embedded store."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.clickhouse.store import EmbeddedStore, encode_cursor
from events.models import Alert
from tests.api.conftest import ClientFactory
from tests.connectors.clickhouse import factories as f
from tests.connectors.clickhouse.store_contract import alerts_in_order, numbered_alert


def _pages(client: TestClient, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = client.get("/alerts", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def test_no_alerts(client: TestClient) -> None:
    response = client.get("/alerts")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_alert_fields_carry_units_both_ways(client: TestClient, store: EmbeddedStore) -> None:
    alert = f.alert(0, premium_cents=10_395_050)
    store.insert("flow.alerts", [alert])
    (item,) = client.get("/alerts").json()["items"]
    assert item["id"] == alert.id
    assert (item["price_e9"], item["price"]) == (2_475_000_000, "2.475")
    assert (item["bid_e9"], item["bid"], item["ask_e9"], item["ask"]) == (2_400_000_000, "2.4", 2_450_000_000, "2.45")
    assert (item["premium_cents"], item["premium_usd"]) == (10_395_050, "103950.50")
    assert item["time_first_utc"] == "2026-03-02T14:30:00Z"
    assert item["ts_first"] == alert.ts_first
    assert item["classifiers"] == ["large_sweep"]
    assert item["evidence_ids"] == list(alert.evidence_ids)
    assert (item["subject_count"], item["print_count"], item["hit_count"]) == (1, 4, 1), "4 prints"
    assert item["severity"] == "high"
    assert "event_type" not in item
    assert "schema_version" not in item


def test_newest_first_through_pages_with_ties(client: TestClient, store: EmbeddedStore) -> None:
    alerts = [numbered_alert(i) for i in range(9)] + [numbered_alert(i, ts_first=f.ts(4_000)) for i in (20, 21)]
    store.insert("flow.alerts", alerts)
    pages = _pages(client, limit=4)
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [a for p in pages for a in p] == alerts_in_order(alerts)


def test_latest_revision_only(client: TestClient, store: EmbeddedStore) -> None:
    store.insert("flow.alerts", [f.alert(0, revision=0, severity="high")])
    store.insert("flow.alerts", [f.alert(0, revision=1, severity="medium")])
    items = client.get("/alerts").json()["items"]
    assert [(i["revision"], i["severity"], i["subject_count"]) for i in items] == [(1, "medium", 2)]
    assert client.get("/alerts", params={"severity": "high"}).json()["items"] == []


def test_filters(client: TestClient, store: EmbeddedStore) -> None:
    spy = [numbered_alert(i, severity="high") for i in range(3)]
    qqq = [numbered_alert(i, symbol=f.PUT, severity="low") for i in range(3, 5)]
    store.insert("flow.alerts", spy + qqq)
    assert _pages(client, underlying="QQQ") == [alerts_in_order(qqq)]
    assert _pages(client, severity="high") == [alerts_in_order(spy)]
    assert _pages(client, underlying="QQQ", severity="high") == [[]]
    assert _pages(client, underlying="BRK.B") == [[]]


def test_default_page_is_50(client: TestClient, store: EmbeddedStore) -> None:
    alerts: list[Alert] = [numbered_alert(i) for i in range(51)]
    store.insert("flow.alerts", alerts)
    body = client.get("/alerts").json()
    assert len(body["items"]) == 50
    assert body["next_cursor"] == encode_cursor(alerts[1].ts_first, alerts[1].id)


@pytest.mark.parametrize(
    "params",
    [
        {"underlying": "spy"},
        {"underlying": "SPY;DROP"},
        {"underlying": "A" * 17},
        {"underlying": ""},
        {"underlying": "SPY' OR 1=1"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"severity": "urgent"},
        {"cursor": "x" * 201},
    ],
    ids=lambda p: f"{next(iter(p))}={str(next(iter(p.values())))[:12]}",
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, str | int]) -> None:
    assert client.get("/alerts", params=params).status_code == 422


@pytest.mark.parametrize("cursor", ["bm9jb2xvbg", "not-a-cursor", "MTIzOmEnIG9yIDE9MQ"])
def test_foreign_cursor_is_400(client: TestClient, cursor: str) -> None:
    response = client.get("/alerts", params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_accepted_underlyings(client: TestClient) -> None:
    for symbol in ("SPY", "BRK.B", "BF-B", "SPX", "A1"):
        assert client.get("/alerts", params={"underlying": symbol}).status_code == 200


def test_store_failure_is_503(make_client: ClientFactory, chdb_store: EmbeddedStore) -> None:
    closed = chdb_store.for_database("never_opened")
    closed.close()
    response = make_client(closed).get("/alerts")
    assert response.status_code == 503
    assert response.json()["detail"] == "store unavailable"


def test_token_guards_alerts_but_not_health_or_docs(make_client: ClientFactory) -> None:
    client = make_client(api_token="s3cret-token")
    assert client.get("/alerts").status_code == 401
    assert client.get("/alerts", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/alerts", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
    ok = client.get("/alerts", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_openapi_documents_the_alerts_page(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/alerts"]["get"]["parameters"]}
    assert set(params) == {"underlying", "limit", "cursor", "severity", "view"}
    assert params["view"]["schema"]["enum"] == ["smart-money", "balanced", "all"]
    assert params["limit"]["schema"]["maximum"] == 500
    assert "AlertPage" in spec["components"]["schemas"]
    assert "text/html" in client.get("/docs").headers["content-type"]


# ------------------------------------------------------------------------------------------------ views


def _premium_ladder() -> list[Alert]:
    """SPY (an ETF: smart-money floor $50k, balanced $25k) alerts at $5k, $30k and $104k, three times over."""
    premiums = [500_000, 3_000_000, 10_395_000] * 3
    return [numbered_alert(i, premium_cents=cents) for i, cents in enumerate(premiums)]


@pytest.mark.parametrize(
    ("view", "floor_cents"), [("all", 0), ("balanced", 2_500_000), ("smart-money", 5_000_000)], ids=str
)
def test_views_hide_small_prints_and_page_through_the_rest(
    client: TestClient, store: EmbeddedStore, view: str, floor_cents: int
) -> None:
    alerts = _premium_ladder()
    store.insert("flow.alerts", alerts)
    pages = _pages(client, limit=2, view=view)
    shown = [a for p in pages for a in p]
    expected = [a for a in alerts_in_order(alerts) if next(x for x in alerts if x.id == a).premium_cents >= floor_cents]
    assert shown == expected
    assert all(len(p) == 2 for p in pages[:-1]), "full pages until the last"


def test_unknown_view_is_a_clear_error(client: TestClient) -> None:
    response = client.get("/alerts", params={"view": "whales"})
    assert response.status_code == 422
    assert "smart-money" in response.text


def test_openapi_documents_every_status_the_alerts_page_returns(client: TestClient) -> None:
    responses = client.get("/openapi.json").json()["paths"]["/alerts"]["get"]["responses"]
    assert {"200", "400", "401", "422", "503"} <= set(responses)
    assert client.get("/alerts", params={"cursor": "not-a-cursor"}).status_code == 400
