"""Historical volume baselines: the daily job's output, cached in Redis and read by the options flow.

The model lives with the other payloads in `events.models`; this module keeps the names it was known by.
"""

from __future__ import annotations

from events.models import BUCKET_MINUTES, SESSION_BUCKETS, VolumeBaseline

__all__ = ["BUCKET_MINUTES", "SESSION_BUCKETS", "VolumeBaseline"]
