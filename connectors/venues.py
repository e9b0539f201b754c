"""Provider venue identity → venue code (MIC-like).

Databento names its sources by `publisher_id`; the `databento` package's own publisher table maps each id to
a dataset and a venue, so new venues (the option venue list grows) arrive with a package upgrade, never
with an edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from databento.common.publishers import Publisher, Venue

UNKNOWN_VENUE_PREFIX = "PUB"
"""Venue code prefix for a publisher id the installed `databento` package does not know yet."""

# Processors and Databento's own consolidated products: their records are consolidated, not one venue's.
CONSOLIDATED_VENUES = frozenset({"OPRA", "EQUS", "DBEQ", "CTA", "UTP"})


@dataclass(frozen=True, slots=True)
class PublisherInfo:
    """One Databento publisher: its id, dataset and venue code."""

    publisher_id: int
    dataset: str
    venue: str
    description: str


def _build_table() -> dict[int, PublisherInfo]:
    return {p.to_int(): PublisherInfo(p.to_int(), p.dataset.value, p.venue.value, p.description) for p in Publisher}


_PUBLISHERS = _build_table()


def publisher(publisher_id: int) -> PublisherInfo | None:
    """Return the publisher behind a Databento `publisher_id`, or None when the package does not know it."""
    return _PUBLISHERS.get(publisher_id)


def venue_code(publisher_id: int) -> str:
    """Return the venue code (MIC-like, e.g. `XCBO`, `FINN`) of a Databento publisher.

    An id unknown to the installed package maps to `PUB<id>`, distinct per publisher, so venue counts stay
    right until the package is upgraded.
    """
    info = _PUBLISHERS.get(publisher_id)
    return info.venue if info is not None else f"{UNKNOWN_VENUE_PREFIX}{publisher_id}"


@cache
def is_finra_venue(venue: str) -> bool:
    """Return True for a FINRA facility (a TRF or the ADF): where off-exchange trades are reported."""
    try:
        return "FINRA" in Venue(venue).description
    except ValueError:
        return False


def is_off_exchange(dataset: str, publisher_id: int) -> bool:
    """Return True when a publisher of `dataset` is a FINRA TRF/ADF, i.e. its prints are off-exchange."""
    info = _PUBLISHERS.get(publisher_id)
    return info is not None and info.dataset == dataset and is_finra_venue(info.venue)


def off_exchange_publishers(dataset: str) -> frozenset[int]:
    """Return the publisher ids of `dataset` that report off-exchange prints (FINRA TRF/ADF)."""
    return frozenset(i for i, p in _PUBLISHERS.items() if p.dataset == dataset and is_finra_venue(p.venue))


def is_consolidated(publisher_id: int) -> bool:
    """Return True when a publisher is a processor or consolidated product (OPRA, EQUS, CTA, ...), not a venue."""
    info = _PUBLISHERS.get(publisher_id)
    return info is not None and info.venue in CONSOLIDATED_VENUES
