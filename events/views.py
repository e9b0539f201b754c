"""Presentation filter views (BEHAVIOR section 6): `smart-money`, `balanced`, `all` decide what a view of
alerts shows, never what is computed or stored. Pure functions over the `Alert` contract and the settings, so
the API, the demo tape and the evaluation apply the same rule.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from events.config import OptionsConfig
from events.models import Alert
from events.units import CENTS_PER_USD

FilterName = Literal["smart-money", "balanced", "all"]
FILTER_NAMES: tuple[FilterName, ...] = ("smart-money", "balanced", "all")

_BID_SIDE = ("B", "BB")
_UNQUOTED = ("MISSING", "STALE", "CROSSED")


@dataclass(frozen=True, slots=True)
class FilterProfile:
    """Premium floors of one view, in cents: an alert under the floor that applies to it is hidden."""

    name: FilterName
    min_cents: int
    """Every alert."""
    etf_min_cents: int
    """Alerts on an ETF underlying."""
    bid_min_cents: int
    """Alerts with most of their size at or below the bid."""
    mid_min_cents: int
    """Alerts with most of their size between the bid and ask bands."""
    missing_nbbo_min_cents: int
    """Alerts with most of their size without a fresh, uncrossed NBBO."""
    keep_cents: int | None
    """Alerts with at least this premium are always shown (None: no override)."""


def filter_profile(name: FilterName, config: OptionsConfig) -> FilterProfile:
    """Return a view's floors: smart-money from the `smart_money_*` settings, balanced scaled by
    `balanced_filter_scale` (halved by default), all with no floor.
    """
    if name == "all":
        return FilterProfile(name, 0, 0, 0, 0, 0, None)
    scale = 1.0 if name == "smart-money" else config.balanced_filter_scale

    def floor(usd: int) -> int:
        return round(usd * CENTS_PER_USD * scale)

    return FilterProfile(
        name=name,
        min_cents=floor(config.smart_money_min_premium_usd),
        etf_min_cents=floor(config.smart_money_etf_min_premium_usd),
        bid_min_cents=floor(config.smart_money_bid_min_premium_usd),
        mid_min_cents=floor(config.smart_money_mid_min_premium_usd),
        missing_nbbo_min_cents=floor(config.smart_money_missing_nbbo_min_premium_usd),
        keep_cents=floor(config.smart_money_keep_premium_usd),
    )


def etf_symbols(config: OptionsConfig) -> frozenset[str]:
    """Return the underlyings the filters treat as ETFs (`filter_etf_symbols`)."""
    return frozenset(s.strip().upper() for s in config.filter_etf_symbols.split(",") if s.strip())


def placement_class(alert: Alert) -> Literal["bid", "mid", "missing", "other"]:
    """Return where most of an alert's size traded: at/below the bid, mid-market, unquoted, or elsewhere.

    "Most" is more than half of the size. An alert stored before placement sizes existed falls back to its
    side: seller-initiated reads as bid-side.
    """
    sizes = alert.placement_sizes
    total = sum(sizes.values())
    if total <= 0:
        return "bid" if alert.side == "sell" else "other"
    if 2 * sum(sizes.get(p, 0) for p in _UNQUOTED) > total:
        return "missing"
    if 2 * sum(sizes.get(p, 0) for p in _BID_SIDE) > total:
        return "bid"
    if 2 * sizes.get("MID", 0) > total:
        return "mid"
    return "other"


def visible(alert: Alert, profile: FilterProfile, *, etf_symbols: Collection[str]) -> bool:
    """Return whether a view with `profile` shows the alert (BEHAVIOR section 6); nothing computed changes.

    Kept when premium >= the keep floor; else hidden under the floor for every alert, for ETFs, and for
    the alert's placement class (bid-side, mid, missing NBBO).
    """
    premium = alert.premium_cents
    if profile.keep_cents is not None and premium >= profile.keep_cents:
        return True
    floors = [profile.min_cents]
    if alert.underlying in etf_symbols:
        floors.append(profile.etf_min_cents)
    placement = placement_class(alert)
    if placement == "bid":
        floors.append(profile.bid_min_cents)
    elif placement == "mid":
        floors.append(profile.mid_min_cents)
    elif placement == "missing":
        floors.append(profile.missing_nbbo_min_cents)
    return premium >= max(floors)
