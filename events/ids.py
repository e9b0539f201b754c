"""Deterministic event ids.

Raw events are named by their provider identity, derived events by the ids of their inputs, so replaying the
same input yields the same ids on any number of workers, and sinks can be idempotent on id.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

_SEP = "\x1f"  # unit separator: cannot appear in provider symbols or ids


def _digest(parts: Iterable[object]) -> str:
    return blake2b(_SEP.join(str(p) for p in parts).encode(), digest_size=16).hexdigest()


def raw_event_id(provider: str, channel: str, instrument: str, ts_event: int, sequence: int) -> str:
    """Return the id of a raw event from its provider identity (32 hex chars).

    The same text as `_digest` of the five parts (an f-string formats each part as `str` does), built in one
    step: every raw event of a provider file is named here.
    """
    text = f"{provider}{_SEP}{channel}{_SEP}{instrument}{_SEP}{ts_event}{_SEP}{sequence}"
    return blake2b(text.encode(), digest_size=16).hexdigest()


def derived_event_id(kind: str, input_ids: Iterable[str]) -> str:
    """Return the id of a derived event from its kind and its inputs' ids, in order.

    Same rule as `_digest`; the parts are already strings, so no per-part `str()` on this hot path (every
    packet, hit and alert is named here).
    """
    return blake2b(_SEP.join((kind, *input_ids)).encode(), digest_size=16).hexdigest()
