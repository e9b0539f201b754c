"""Redis as the hot cache: historical volume baselines per underlying (one hash per underlying)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis

from events.baselines import VolumeBaseline

PREFIX = "flowtape:baselines:"


class BaselineCache:
    """Write and read `VolumeBaseline`s: hash `flowtape:baselines:<underlying>`, field `<scope>:<subject>`."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> BaselineCache:
        """Connect to Redis at `url` (e.g. redis://127.0.0.1:16379/0)."""
        return cls(redis.Redis.from_url(url, socket_timeout=5))

    def write(self, baselines: Sequence[VolumeBaseline]) -> int:
        """Replace the cached baselines of every underlying present in `baselines`; return fields written."""
        # Any: redis-py's Mapping key type is a union, and dict keys are invariant.
        by_underlying: dict[str, dict[Any, Any]] = {}
        for baseline in baselines:
            field = f"{baseline.scope}:{baseline.subject}"
            by_underlying.setdefault(baseline.underlying, {})[field] = baseline.model_dump_json()
        pipe = self._client.pipeline(transaction=True)
        for underlying, fields in by_underlying.items():
            key = self._prefix + underlying
            pipe.delete(key)
            pipe.hset(key, mapping=fields)
        pipe.execute()
        return sum(len(f) for f in by_underlying.values())

    def read(self, underlyings: Iterable[str] | None = None) -> list[VolumeBaseline]:
        """Return the cached baselines of the given underlyings (all when None), sorted by (scope, subject)."""
        if underlyings is None:
            keys = sorted(k.decode() for k in self._client.scan_iter(match=self._prefix + "*"))
        else:
            keys = [self._prefix + u for u in underlyings]
        out: list[VolumeBaseline] = []
        for key in keys:
            for raw in self._client.hgetall(key).values():
                out.append(VolumeBaseline.model_validate_json(raw))
        return sorted(out, key=lambda b: (b.scope, b.subject))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
