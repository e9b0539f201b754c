"""Packet classifiers (BEHAVIOR section 6): each returns a hit with direction, confidence, the rule with its
numbers, plain-English explanations and the evidence print ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import ClassifierHit, Direction, Packet
from events.units import format_price, format_usd

POOR_QUOTES_COVERAGE = 0.5
"""Below this NBBO coverage the quote context is poor: confidence drops and no direction is claimed."""


@dataclass(frozen=True, slots=True)
class PacketContext:
    """What a classifier may read besides the packet: rolling z-scores (None when too few samples)."""

    premium_z: float | None = None
    size_z: float | None = None


def direction_for(packet: Packet) -> Direction:
    """Return the directional read: calls bought / puts sold bullish, puts bought / calls sold bearish."""
    if packet.side == "unknown" or packet.nbbo_coverage < POOR_QUOTES_COVERAGE:
        return "neutral"
    bought = packet.side == "buy"
    if packet.right == "C":
        return "bullish" if bought else "bearish"
    return "bearish" if bought else "bullish"


def _describe(packet: Packet) -> str:
    right = "call" if packet.right == "C" else "put"
    return (
        f"{packet.underlying} {packet.expiry:%Y-%m-%d} {format_price(packet.strike_e9)} {right}: "
        f"{packet.size_contracts:,} contracts for {format_usd(packet.premium_cents)} premium"
    )


def _quote_note(packet: Packet) -> str:
    if packet.bid_e9 is None or packet.ask_e9 is None:
        return "no NBBO before the first print"
    return (
        f"NBBO at the first print {format_price(packet.bid_e9)} x {format_price(packet.ask_e9)}, "
        f"VWAP {format_price(packet.vwap_e9, 4)}, {packet.nbbo_coverage:.0%} of size with a fresh quote"
    )


def _side_note(packet: Packet) -> str:
    side = packet.side
    if side == "unknown":
        return "aggressor side unknown (mixed or unquoted fills): direction neutral"
    if packet.nbbo_coverage < POOR_QUOTES_COVERAGE:
        return f"quote context poor ({packet.nbbo_coverage:.0%} of size quoted): direction withheld"
    taken = packet.buy_size_contracts if side == "buy" else packet.sell_size_contracts
    where = "at or above the ask" if side == "buy" else "at or below the bid"
    return f"{taken / packet.size_contracts:.0%} of size traded {where} ({side}er-initiated)"


def _confidence(base: float, packet: Packet, bonus: float) -> float:
    conf = base + bonus
    if packet.side == "unknown":
        conf -= 0.2
    conf -= 0.3 * (1.0 - packet.nbbo_coverage)
    return round(min(1.0, max(0.05, conf)), 4)


def _hit(
    classifier: str,
    packet: Packet,
    rule: str,
    metrics: dict[str, float],
    explanations: list[str],
    confidence: float,
) -> ClassifierHit:
    return ClassifierHit(
        id=derived_event_id("hit", (classifier, packet.id)),
        ts_event=packet.ts_event,
        underlying=packet.underlying,
        symbol=packet.symbol,
        subject_type="packet",
        subject_id=packet.id,
        classifier=classifier,
        direction=direction_for(packet),
        confidence=confidence,
        rule=rule,
        metrics=metrics,
        explanations=tuple(explanations),
        evidence_ids=packet.print_ids,
        premium_cents=packet.premium_cents,
        size_contracts=packet.size_contracts,
    )


def large_sweep(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Sweep with at least N prints and (premium >= threshold or premium z >= threshold)."""
    if packet.kind != "sweep" or packet.print_count < cfg.large_sweep_min_prints:
        return None
    by_premium = packet.premium_cents >= cfg.large_sweep_min_premium_cents
    by_z = ctx.premium_z is not None and ctx.premium_z >= cfg.large_sweep_min_z
    if not (by_premium or by_z):
        return None
    rule = (
        f"kind == sweep and prints >= {cfg.large_sweep_min_prints} and "
        f"(premium >= ${cfg.large_sweep_min_premium_usd:,} or premium z >= {cfg.large_sweep_min_z:g})"
    )
    z_text = "absent (too few samples)" if ctx.premium_z is None else f"{ctx.premium_z:.2f}"
    explanations = [
        f"Sweep: {_describe(packet)} across {packet.venue_count} venues in {packet.print_count} prints "
        f"within {packet.span_ns / 1e6:.0f} ms.",
        f"Premium {format_usd(packet.premium_cents)} vs threshold ${cfg.large_sweep_min_premium_usd:,}; "
        f"premium z {z_text} vs {cfg.large_sweep_min_z:g}.",
        _side_note(packet) + "; " + _quote_note(packet) + ".",
    ]
    metrics = {
        "print_count": float(packet.print_count),
        "venue_count": float(packet.venue_count),
        "premium_usd": packet.premium_cents / 100,
        "size_contracts": float(packet.size_contracts),
        "nbbo_coverage": packet.nbbo_coverage,
    }
    if ctx.premium_z is not None:
        metrics["premium_z"] = round(ctx.premium_z, 4)
    bonus = min(0.15, 0.03 * (packet.print_count - cfg.large_sweep_min_prints))
    bonus += 0.1 if packet.premium_cents >= 2 * cfg.large_sweep_min_premium_cents else 0.0
    walked = (packet.side == "buy" and packet.price_path == "rising") or (
        packet.side == "sell" and packet.price_path == "falling"
    )
    bonus += 0.05 if walked else 0.0
    return _hit("large_sweep", packet, rule, metrics, explanations, _confidence(0.6, packet, bonus))


def block_trade(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """A block: one print of size >= block_min_contracts or premium >= block_min_premium_usd, or cross/floor."""
    if packet.kind != "block":
        return None
    rule = (
        f"one print with size >= {cfg.block_min_contracts:,} contracts or premium >= "
        f"${cfg.block_min_premium_usd:,}, or a cross/floor print"
    )
    explanations = [
        f"Block: {_describe(packet)} in one print on {packet.venues[0]}.",
        f"Size {packet.size_contracts:,} vs {cfg.block_min_contracts:,} contracts; premium "
        f"{format_usd(packet.premium_cents)} vs ${cfg.block_min_premium_usd:,}"
        + ("; cross/floor print" if {"cross", "floor"} & set(packet.conditions) else "")
        + ".",
        _side_note(packet) + "; " + _quote_note(packet) + ".",
    ]
    metrics = {
        "size_contracts": float(packet.size_contracts),
        "premium_usd": packet.premium_cents / 100,
        "nbbo_coverage": packet.nbbo_coverage,
    }
    bonus = 0.1 if packet.premium_cents >= 2 * cfg.block_min_premium_cents else 0.0
    return _hit("block_trade", packet, rule, metrics, explanations, _confidence(0.65, packet, bonus))


PacketClassifier = Callable[[Packet, PacketContext, OptionsConfig], ClassifierHit | None]
PACKET_CLASSIFIERS: tuple[PacketClassifier, ...] = (large_sweep, block_trade)


def classify_packet(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> list[ClassifierHit]:
    """Run every packet classifier; return the hits in classifier order."""
    hits = []
    for classifier in PACKET_CLASSIFIERS:
        hit = classifier(packet, ctx, cfg)
        if hit is not None:
            hits.append(hit)
    return hits
