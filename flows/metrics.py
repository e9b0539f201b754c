"""`/metrics` of a flow process (`FLOWTAPE_METRICS_PORT`): its Kafka I/O counters in the Prometheus text format.

Events decoded per topic, dead letters per source topic and error class, messages produced and not acknowledged,
consumer errors (`connectors.kafka.counters`). Each flow process serves its own counts on its own port, on the
API's bind address (`FLOWTAPE_API_HOST`, loopback by default); several processes on one host need a port each.
The server is a daemon thread: it never holds the flow up, and a port that is taken is a warning, not a stop.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connectors.kafka.counters import COUNTERS, Counters

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _handler(counters: Counters) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404, "only /metrics is served here")
                return
            body = counters.to_prometheus().encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a scrape every few seconds is not news

    return Handler


def serve_metrics(host: str, port: int, counters: Counters = COUNTERS) -> ThreadingHTTPServer | None:
    """Serve `counters` at `http://host:port/metrics` from a daemon thread; return the server (None: port 0, or
    the port could not be bound, which is logged)."""
    if port == 0:
        return None
    try:
        server = ThreadingHTTPServer((host, port), _handler(counters))
    except OSError as exc:
        log.warning("metrics not served on %s:%d: %s", host, port, exc)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="flowtape-metrics", daemon=True).start()
    return server
