"""GET /metrics: requests and latency per route template and status, in the Prometheus text format."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import ClientFactory


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_are_counted_and_timed_per_route_template_and_status(client: TestClient) -> None:
    assert client.get("/alerts").status_code == 200
    assert client.get("/alerts").status_code == 200
    assert client.get(f"/alerts/{'a' * 32}").status_code == 404
    assert client.get(f"/alerts/{'b' * 32}").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("flowtape_api_requests_total", (("route", "/alerts"), ("status", "200")))] == 2
    assert samples[("flowtape_api_requests_total", (("route", "/alerts/{alert_id}"), ("status", "404")))] == 2
    assert samples[("flowtape_api_request_seconds_count", (("route", "/alerts"),))] == 2
    assert samples[("flowtape_api_store_unavailable_total", ())] == 0


def test_metrics_need_the_token_when_one_is_set(make_client: ClientFactory) -> None:
    client = make_client(api_token="s3cret-token")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
