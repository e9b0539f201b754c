"""A flow process's /metrics: its Kafka counters over HTTP, in the Prometheus text format."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from connectors.kafka.counters import DEAD_LETTERED, DECODED, Counters
from flows.metrics import serve_metrics


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_counters_are_served_at_metrics() -> None:
    counters = Counters()
    counters.inc(DECODED, 3, topic="options.prints")
    counters.inc(DEAD_LETTERED, topic="options.prints", error="invalid_json")
    server = serve_metrics("127.0.0.1", _free_port(), counters)
    assert server is not None
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            text = response.read().decode()
        assert 'flowtape_kafka_decoded_total{topic="options.prints"} 3' in text
        assert 'flowtape_kafka_dead_lettered_total{error="invalid_json",topic="options.prints"} 1' in text
        counters.inc(DECODED, topic="options.prints")
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            assert 'flowtape_kafka_decoded_total{topic="options.prints"} 4' in response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/other", timeout=5)
        assert missing.value.code == 404
        missing.value.close()
    finally:
        server.shutdown()
        server.server_close()


def test_port_zero_serves_nothing_and_a_taken_port_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert serve_metrics("127.0.0.1", 0) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert serve_metrics("127.0.0.1", taken.getsockname()[1]) is None
    assert "metrics not served" in caplog.text
