"""Process-local I/O counters: events decoded, dead-lettered, produced, delivery and consumer errors.

Telemetry of the I/O side, deliberately kept out of Bytewax state (which is snapshotted and deep-copied
every epoch). Each process has its own counts; thread-safe for `-w N` workers in one process.
"""

from __future__ import annotations

import threading
from collections import Counter

DECODED = "decoded"
DEAD_LETTERED = "dead_lettered"
PRODUCED = "produced"
DELIVERY_ERRORS = "delivery_errors"
CONSUMER_ERRORS = "consumer_errors"

_HELP = {
    DECODED: "events decoded from Kafka, by topic",
    DEAD_LETTERED: "payloads routed to a dead-letter topic, by source topic and error class",
    PRODUCED: "messages acknowledged by the broker (EventProducer, kafka_output), by topic",
    DELIVERY_ERRORS: "messages the broker did not acknowledge, by topic",
    CONSUMER_ERRORS: "errors reported by a Kafka consumer, by topic and error name",
}

Labels = tuple[tuple[str, str], ...]


def _sample(name: str, labels: Labels) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Counters:
    """A small set of monotonically increasing counters with string labels."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, Labels]] = Counter()

    def inc(self, name: str, n: int = 1, **labels: str) -> None:
        """Add `n` to the counter `name` with these labels."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counts[key] += n

    def value(self, name: str, **labels: str) -> int:
        """Return the sum of `name` over every label set that includes `labels`."""
        want = set(labels.items())
        with self._lock:
            return sum(v for (n, ls), v in self._counts.items() if n == name and want <= set(ls))

    def snapshot(self) -> dict[str, int]:
        """Return every counter as `name{label="value",...}` -> count, sorted."""
        with self._lock:
            items = list(self._counts.items())
        return {_sample(name, labels): v for (name, labels), v in sorted(items)}

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self._counts.clear()

    def to_prometheus(self, prefix: str = "flowtape_kafka_") -> str:
        """Return the counters in the Prometheus text exposition format (`<prefix><name>_total`)."""
        with self._lock:
            items = sorted(self._counts.items())
        lines: list[str] = []
        seen: set[str] = set()
        for (name, labels), v in items:
            metric = f"{prefix}{name}_total"
            if metric not in seen:
                seen.add(metric)
                lines.append(f"# HELP {metric} {_HELP.get(name, name)}")
                lines.append(f"# TYPE {metric} counter")
            lines.append(f"{_sample(metric, labels)} {v}")
        return "\n".join(lines) + ("\n" if lines else "")


COUNTERS = Counters()
"""The process-wide counters used by default by every function of this package."""
