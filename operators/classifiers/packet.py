"""Packet classifiers (BEHAVIOR section 6): each returns a hit with direction, confidence, the rule with its
numbers, plain-English explanations and the evidence print ids.

Significance before statistics: every hit needs an absolute size or premium; a z-score (against the contract's
rolling window, before the packet) only confirms a print that is large on its own, or adds confidence. On a busy
tape some small print is always several standard deviations above a quiet contract's mean. The rules, with their
settings and defaults (premiums in US dollars):

- `large_sweep`: sweep, prints >= 3 (`large_sweep_min_prints`) and (premium >= 40k (`large_sweep_min_premium_usd`)
  or (premium z >= 2 (`large_sweep_min_z`) and premium >= 20k (`large_sweep_z_floor_premium_usd`) and size >= 50
  (`large_sweep_z_floor_contracts`))).
- `golden_sweep`: sweep, premium >= 1M (`golden_sweep_min_premium_usd`) and size > open interest.
- `block_trade`: block kind (one print of size >= 500 (`block_min_contracts`) or premium >= 250k
  (`block_min_premium_usd`), or a cross/floor print) with premium >= 20k (`block_trade_min_premium_usd`); a
  cross/floor print under the block size also needs size >= 100 (`block_flag_min_contracts`).
- `unusual_spike`: premium >= 20k (`unusual_spike_min_premium_usd`) and size >= 100
  (`unusual_spike_floor_contracts`), and (size >= 400 (`unusual_spike_min_contracts`) or premium z >= 2.5
  (`unusual_spike_min_premium_z`) or size z >= 2 (`unusual_spike_min_size_z`)).
- `unusual_volume`: the packet takes 5-minute volume across max(5 x its historical bucket mean
  (`unusual_volume_bucket_ratio`), 50 contracts (`unusual_volume_min_bucket_contracts`)), or day volume across
  max(open interest + 1, 500 contracts (`unusual_volume_min_day_contracts`)); either way the crossing packet
  carries premium >= 10k (`unusual_volume_min_premium_usd`).
- `new_position_likely`: size > prior-day open interest and size >= 100 (`new_position_min_contracts`) and premium
  >= 10k (`new_position_min_premium_usd`).
- `repeated_hits`: same contract and known side, >= 3 packets (`repeat_min_packets`) of size >= 25
  (`repeat_min_packet_contracts`) and premium >= 10k (`repeat_min_packet_premium_usd`) each within 60 s
  (`repeat_window_ms`).
- `call_overwrite` / `put_write`: calls / puts sold at the bid with size >= 500 (`write_min_contracts`) and premium
  >= 50k (`write_min_premium_usd`).
- `far_dated_conviction`: days to expiry >= 60 (`far_dated_min_dte`), aggressor side known and premium >= 50k
  (`far_dated_min_premium_usd`).
- `zero_dte_gamma`: expires today (America/New_York), strike within 1% of the underlying
  (`zero_dte_max_strike_distance`), size >= 400 (`zero_dte_min_contracts`) and premium >= 20k
  (`zero_dte_min_premium_usd`). The underlying is the packet's price at its first print (`underlying_e9`: its
  quote, else implied by put-call parity, see `operators.underlying_price`); the explanation cites its source and
  age, and without one the rule abstains.
"""

from __future__ import annotations

from collections.abc import Callable

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import ClassifierHit, Packet
from events.units import CENTS_PER_USD, NS_PER_S, format_price, format_usd
from operators.classifiers.common import POOR_QUOTES_COVERAGE, days_to_expiry, direction_for
from operators.packet_context import PacketContext


def _describe(packet: Packet) -> str:
    right = "call" if packet.right == "C" else "put"
    return (
        f"{packet.underlying} {packet.expiry:%Y-%m-%d} {format_price(packet.strike_e9)} {right}: "
        f"{packet.size_contracts:,} contracts for {format_usd(packet.premium_cents)} premium"
    )


def format_age_ms(age_ms: int) -> str:
    """Format an age: tenths of a second under a minute, else tenths of a minute."""
    if age_ms < 60_000:
        return f"{age_ms / 1000:.1f} s"
    return f"{age_ms / 60_000:.1f} min"


def underlying_note(packet: Packet) -> str:
    """Say the packet's underlying price and where it came from, e.g. `501.23 (implied by put-call parity at the
    500.00 strike, 0.4 s old)`; "unknown" without one."""
    spot = packet.underlying_e9
    if spot is None:
        return "unknown"
    age = "" if packet.underlying_age_ms is None else f", {format_age_ms(packet.underlying_age_ms)} old"
    if packet.underlying_source == "implied":
        at = packet.underlying_strike_e9
        strike = "" if at is None else f" at the {format_price(at)} strike"
        return f"{format_price(spot)} (implied by put-call parity{strike}{age})"
    return f"{format_price(spot)} (the underlying's quote{age})"


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
    evidence_ids: tuple[str, ...] | None = None,
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
        evidence_ids=packet.print_ids if evidence_ids is None else evidence_ids,
        premium_cents=packet.premium_cents,
        size_contracts=packet.size_contracts,
    )


def large_sweep(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Sweep with at least N prints and (premium >= threshold or (premium z >= threshold and premium >= floor))."""
    if packet.kind != "sweep" or packet.print_count < cfg.large_sweep_min_prints:
        return None
    by_premium = packet.premium_cents >= cfg.large_sweep_min_premium_cents
    by_z = (
        ctx.premium_z is not None
        and ctx.premium_z >= cfg.large_sweep_min_z
        and packet.premium_cents >= _cents(cfg.large_sweep_z_floor_premium_usd)
        and packet.size_contracts >= cfg.large_sweep_z_floor_contracts
    )
    if not (by_premium or by_z):
        return None
    rule = (
        f"kind == sweep and prints >= {cfg.large_sweep_min_prints} and "
        f"(premium >= ${cfg.large_sweep_min_premium_usd:,} or (premium z >= {cfg.large_sweep_min_z:g} and "
        f"premium >= ${cfg.large_sweep_z_floor_premium_usd:,} and size >= {cfg.large_sweep_z_floor_contracts:,}))"
    )
    z_text = "absent (too few samples)" if ctx.premium_z is None else f"{ctx.premium_z:.2f}"
    explanations = [
        f"Sweep: {_describe(packet)} across {packet.venue_count} venues in {packet.print_count} prints "
        f"within {packet.span_ns / 1e6:.0f} ms.",
        f"Premium {format_usd(packet.premium_cents)} vs threshold ${cfg.large_sweep_min_premium_usd:,}; "
        f"premium z {z_text} vs {cfg.large_sweep_min_z:g} (counts only with premium >= "
        f"${cfg.large_sweep_z_floor_premium_usd:,} and size >= {cfg.large_sweep_z_floor_contracts:,}).",
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
    """A block with premium >= block_trade_min_premium_usd: one print of size >= block_min_contracts or premium >=
    block_min_premium_usd, or a cross/floor print of size >= block_flag_min_contracts (a 10-lot cross is no block,
    nor is 800 lots at a cent)."""
    if packet.kind != "block" or packet.premium_cents < _cents(cfg.block_trade_min_premium_usd):
        return None
    sized = packet.size_contracts >= cfg.block_min_contracts or packet.premium_cents >= cfg.block_min_premium_cents
    if not sized and packet.size_contracts < cfg.block_flag_min_contracts:
        return None
    rule = (
        f"one print with size >= {cfg.block_min_contracts:,} contracts or premium >= "
        f"${cfg.block_min_premium_usd:,}, or a cross/floor print with size >= {cfg.block_flag_min_contracts:,}; "
        f"premium >= ${cfg.block_trade_min_premium_usd:,}"
    )
    explanations = [
        f"Block: {_describe(packet)} in one print on {packet.venues[0]}.",
        f"Size {packet.size_contracts:,} vs {cfg.block_min_contracts:,} contracts; premium "
        f"{format_usd(packet.premium_cents)} vs ${cfg.block_min_premium_usd:,} (at least "
        f"${cfg.block_trade_min_premium_usd:,})"
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


# ------------------------------------------------------------------------------------ shared evidence


def _cents(usd: int) -> int:
    return usd * CENTS_PER_USD


def _walked(packet: Packet) -> bool:
    """Return whether fills walked the way the aggressor pushes: up for buyers, down for sellers."""
    return (packet.side == "buy" and packet.price_path == "rising") or (
        packet.side == "sell" and packet.price_path == "falling"
    )


def _evidence_bonus(packet: Packet, ctx: PacketContext) -> float:
    """Return the confidence a packet's evidence adds to a classifier's base.

    +0.02 per print beyond the first (at most +0.1), +0.05 for a z-score (premium or size) >= 2 or +0.1 for
    one >= 4, +0.05 when the price walked in the aggressor's direction. Quote context is `_confidence`'s job.
    """
    bonus = min(0.1, 0.02 * (packet.print_count - 1))
    zs = [z for z in (ctx.premium_z, ctx.size_z) if z is not None]
    top = max(zs, default=0.0)
    bonus += 0.1 if top >= 4.0 else 0.05 if top >= 2.0 else 0.0
    bonus += 0.05 if _walked(packet) else 0.0
    return bonus


def _z_text(value: float | None) -> str:
    return "absent (too few samples)" if value is None else f"{value:.2f}"


def _metrics(packet: Packet, ctx: PacketContext, **extra: float) -> dict[str, float]:
    metrics = {
        "premium_usd": packet.premium_cents / 100,
        "size_contracts": float(packet.size_contracts),
        "print_count": float(packet.print_count),
        "nbbo_coverage": packet.nbbo_coverage,
    }
    if ctx.premium_z is not None:
        metrics["premium_z"] = round(ctx.premium_z, 4)
    if ctx.size_z is not None:
        metrics["size_z"] = round(ctx.size_z, 4)
    metrics.update(extra)
    return metrics


def _context_line(packet: Packet) -> str:
    return _side_note(packet) + "; " + _quote_note(packet) + "."


# ----------------------------------------------------------------------------------- the classifiers


def golden_sweep(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Sweep with premium >= golden_sweep_min_premium_usd and size above the contract's open interest."""
    oi = ctx.open_interest_contracts
    if packet.kind != "sweep" or packet.premium_cents < _cents(cfg.golden_sweep_min_premium_usd) or oi is None:
        return None
    if packet.size_contracts <= oi:
        return None
    rule = f"kind == sweep and premium >= ${cfg.golden_sweep_min_premium_usd:,} and size > open interest"
    explanations = [
        f"Golden sweep: {_describe(packet)} across {packet.venue_count} venues in {packet.print_count} prints.",
        f"Premium {format_usd(packet.premium_cents)} vs threshold ${cfg.golden_sweep_min_premium_usd:,}; "
        f"size {packet.size_contracts:,} vs open interest {oi:,} contracts (more than exists: opening).",
        _context_line(packet),
    ]
    metrics = _metrics(packet, ctx, open_interest_contracts=float(oi), venue_count=float(packet.venue_count))
    bonus = _evidence_bonus(packet, ctx) + (0.05 if packet.size_contracts >= 2 * oi else 0.0)
    return _hit("golden_sweep", packet, rule, metrics, explanations, _confidence(0.75, packet, bonus))


def unusual_spike(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Premium >= P and size >= F (the floors), and (size >= N or premium z >= Zp or size z >= Zs).

    A z-score confirms a print that is significant on its own; it never raises a hit alone: on a busy tape some
    small print is always several standard deviations above a quiet contract's mean.
    """
    size, premium = packet.size_contracts, packet.premium_cents
    if size < cfg.unusual_spike_floor_contracts or premium < _cents(cfg.unusual_spike_min_premium_usd):
        return None
    by_size = size >= cfg.unusual_spike_min_contracts
    by_premium_z = ctx.premium_z is not None and ctx.premium_z >= cfg.unusual_spike_min_premium_z
    by_size_z = ctx.size_z is not None and ctx.size_z >= cfg.unusual_spike_min_size_z
    if not (by_size or by_premium_z or by_size_z):
        return None
    rule = (
        f"premium >= ${cfg.unusual_spike_min_premium_usd:,} and size >= {cfg.unusual_spike_floor_contracts:,} and "
        f"(size >= {cfg.unusual_spike_min_contracts:,} or premium z >= {cfg.unusual_spike_min_premium_z:g} or "
        f"size z >= {cfg.unusual_spike_min_size_z:g})"
    )
    fired = [name for name, yes in (("size", by_size), ("premium z", by_premium_z), ("size z", by_size_z)) if yes]
    explanations = [
        f"Unusual spike ({', '.join(fired)}): {_describe(packet)}, {packet.kind} of {packet.print_count} prints.",
        f"Premium {format_usd(premium)} vs floor ${cfg.unusual_spike_min_premium_usd:,} and size {size:,} vs floor "
        f"{cfg.unusual_spike_floor_contracts:,} contracts (both needed); then size {size:,} vs "
        f"{cfg.unusual_spike_min_contracts:,} contracts, premium z {_z_text(ctx.premium_z)} vs "
        f"{cfg.unusual_spike_min_premium_z:g}, size z {_z_text(ctx.size_z)} vs {cfg.unusual_spike_min_size_z:g} "
        "(any one).",
        _context_line(packet),
    ]
    bonus = _evidence_bonus(packet, ctx) + (0.05 if len(fired) > 1 else 0.0)
    return _hit("unusual_spike", packet, rule, _metrics(packet, ctx), explanations, _confidence(0.5, packet, bonus))


def _crossed(before: float, after: float, line: float) -> bool:
    return before < line <= after


def unusual_volume(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """The packet takes 5-minute volume to >= ratio x its bucket baseline, or day volume above open interest.

    The packet carries at least `unusual_volume_min_premium_usd`: on a quiet contract a cheap lot of a few hundred
    dollars crosses either line, and volume is unusual to a trader when money moves. Fires on the packet that
    crosses the line (once per contract and bucket, once per contract and day), not on every later print while
    volume stays high: one event, one hit.
    """
    size = packet.size_contracts
    by_bucket = by_day = False
    need = 0.0
    bucket, baseline = ctx.bucket_volume_contracts, ctx.bucket_baseline_contracts
    if bucket is not None and baseline is not None:
        need = max(cfg.unusual_volume_bucket_ratio * baseline, float(cfg.unusual_volume_min_bucket_contracts), 1.0)
        by_bucket = _crossed(bucket - size, bucket, need)
    day, oi = ctx.day_volume_contracts, ctx.open_interest_contracts
    day_line = 0
    if day is not None and oi is not None:
        day_line = max(oi + 1, cfg.unusual_volume_min_day_contracts)
        by_day = _crossed(day - size, day, day_line)
    if not (by_bucket or by_day) or packet.premium_cents < cfg.unusual_volume_min_premium_usd * CENTS_PER_USD:
        return None
    rule = (
        f"5-minute volume crosses max({cfg.unusual_volume_bucket_ratio:g} x bucket baseline, "
        f"{cfg.unusual_volume_min_bucket_contracts:,}) or day volume crosses above open interest with volume >= "
        f"{cfg.unusual_volume_min_day_contracts:,}, on a packet of premium >= "
        f"{format_usd(cfg.unusual_volume_min_premium_usd * CENTS_PER_USD)}"
    )
    explanations = [f"Unusual volume: {_describe(packet)} takes the contract over its usual volume."]
    metrics = _metrics(packet, ctx)
    if bucket is not None and baseline is not None:
        ratio = f"{bucket / baseline:.1f}x" if baseline > 0 else "no history in this bucket"
        explanations.append(
            f"5-minute volume {bucket:,} vs historical bucket mean {baseline:,.1f} ({ratio}; line {need:,.0f} = "
            f"max({cfg.unusual_volume_bucket_ratio:g}x, {cfg.unusual_volume_min_bucket_contracts:,} contracts))."
        )
        metrics.update(bucket_volume_contracts=float(bucket), bucket_baseline_contracts=round(baseline, 4))
    if day is not None and oi is not None:
        explanations.append(
            f"Day volume {day:,} vs open interest {oi:,} (line {day_line:,}: above open interest and at least "
            f"{cfg.unusual_volume_min_day_contracts:,})."
        )
        metrics.update(day_volume_contracts=float(day), open_interest_contracts=float(oi))
    explanations.append(_context_line(packet))
    bonus = _evidence_bonus(packet, ctx) + (0.1 if by_bucket and by_day else 0.0)
    return _hit("unusual_volume", packet, rule, metrics, explanations, _confidence(0.55, packet, bonus))


def new_position_likely(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Size above the prior-day open interest (more contracts than exist, so at least part opens positions), with
    size >= new_position_min_contracts and premium >= new_position_min_premium_usd: a 2-lot on a contract with
    open interest 1 is noise, not a new position worth a hit."""
    oi = ctx.open_interest_contracts
    if oi is None or packet.size_contracts <= oi:
        return None
    if packet.size_contracts < cfg.new_position_min_contracts or packet.premium_cents < _cents(
        cfg.new_position_min_premium_usd
    ):
        return None
    rule = (
        f"size > open interest (prior day) and size >= {cfg.new_position_min_contracts:,} and premium >= "
        f"${cfg.new_position_min_premium_usd:,}"
    )
    explanations = [
        f"New position likely: {_describe(packet)} vs open interest {oi:,}: "
        + (
            "no open interest at all, so every contract opens."
            if oi == 0
            else f"{packet.size_contracts / oi:.1f}x the contracts open, so at least "
            f"{packet.size_contracts - oi:,} contracts open new positions."
        ),
        f"Size {packet.size_contracts:,} vs floor {cfg.new_position_min_contracts:,} contracts; premium "
        f"{format_usd(packet.premium_cents)} vs floor ${cfg.new_position_min_premium_usd:,}.",
        _context_line(packet),
    ]
    ratio = packet.size_contracts / oi if oi else float(packet.size_contracts)
    bonus = _evidence_bonus(packet, ctx) + (0.15 if ratio >= 5 else 0.1 if ratio >= 2 else 0.0)
    metrics = _metrics(packet, ctx, open_interest_contracts=float(oi))
    return _hit("new_position_likely", packet, rule, metrics, explanations, _confidence(0.5, packet, bonus))


def repeated_hits(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """The repeated-hits detector's run: same contract and side, >= N packets within the window."""
    run = ctx.repeat_run
    if run is None:
        return None
    if run.symbol != packet.symbol or run.packet_ids[-1] != packet.id or run.side != packet.side:
        raise ValueError(f"repeat run {run.packet_ids[-1]} on {run.symbol} does not end with packet {packet.id}")
    rule = (
        f"same contract and side, >= {cfg.repeat_min_packets} packets of >= "
        f"${cfg.repeat_min_packet_premium_usd:,} within {cfg.repeat_window_ms:,} ms"
    )
    where = "at the ask" if run.side == "buy" else "at the bid"
    trend = {
        "rising": "fill prices rising",
        "falling": "fill prices falling",
        "flat": "fill prices flat",
        "mixed": "fill prices up and down",
    }[run.price_trend]
    prices = " -> ".join(format_price(v, 4) for v in run.vwaps_e9)
    explanations = [
        f"Repeated hits: {run.count} {run.side} packets {where} on {packet.symbol.strip()} within "
        f"{run.span_ns / NS_PER_S:.1f} s (>= {cfg.repeat_min_packets} within {cfg.repeat_window_ms / 1000:g} s), "
        f"{run.size_contracts:,} contracts for {format_usd(run.premium_cents)} in all.",
        f"VWAPs {prices}: {trend}.",
        _context_line(packet),
    ]
    pushed = (run.side == "buy" and run.price_trend == "rising") or (
        run.side == "sell" and run.price_trend == "falling"
    )
    bonus = min(0.15, 0.05 * (run.count - cfg.repeat_min_packets)) + (0.1 if pushed else 0.0)
    metrics = _metrics(
        packet,
        ctx,
        run_packets=float(run.count),
        run_span_s=run.span_ns / NS_PER_S,
        run_size_contracts=float(run.size_contracts),
        run_premium_usd=run.premium_cents / 100,
    )
    return _hit("repeated_hits", packet, rule, metrics, explanations, _confidence(0.55, packet, bonus), run.print_ids)


def _written(
    classifier: str, right: str, packet: Packet, ctx: PacketContext, cfg: OptionsConfig
) -> ClassifierHit | None:
    if packet.right != right or packet.side != "sell":
        return None
    if packet.size_contracts < cfg.write_min_contracts or packet.premium_cents < _cents(cfg.write_min_premium_usd):
        return None
    what = "calls" if right == "C" else "puts"
    rule = (
        f"{what} sold at the bid (>= {cfg.sweep_min_side_ratio:.0%} of size) with size >= "
        f"{cfg.write_min_contracts:,} and premium >= ${cfg.write_min_premium_usd:,}"
    )
    name = "Call overwrite" if right == "C" else "Put write"
    reading = (
        "calls sold against stock to collect premium (caps the upside)"
        if right == "C"
        else "puts sold to collect premium (willing to own the stock lower)"
    )
    explanations = [
        f"{name}: {_describe(packet)} sold at the bid, {packet.kind} of {packet.print_count} prints: {reading}.",
        f"Size {packet.size_contracts:,} vs {cfg.write_min_contracts:,} contracts; premium "
        f"{format_usd(packet.premium_cents)} vs ${cfg.write_min_premium_usd:,}"
        + ("; stock-tied print (a buy-write)" if "stock_tied" in packet.conditions else "")
        + ".",
        _context_line(packet),
    ]
    bonus = _evidence_bonus(packet, ctx) + (0.1 if packet.premium_cents >= 2 * _cents(cfg.write_min_premium_usd) else 0)
    return _hit(classifier, packet, rule, _metrics(packet, ctx), explanations, _confidence(0.55, packet, bonus))


def call_overwrite(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """A large call packet sold at the bid (write_min_contracts and write_min_premium_usd)."""
    return _written("call_overwrite", "C", packet, ctx, cfg)


def put_write(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """A large put packet sold at the bid (write_min_contracts and write_min_premium_usd)."""
    return _written("put_write", "P", packet, ctx, cfg)


def far_dated_conviction(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """DTE >= far_dated_min_dte and a large packet with a known aggressor (premium >= far_dated_min_premium_usd)."""
    if packet.side == "unknown" or packet.premium_cents < _cents(cfg.far_dated_min_premium_usd):
        return None
    dte = days_to_expiry(packet)
    if dte < cfg.far_dated_min_dte:
        return None
    rule = (
        f"days to expiry >= {cfg.far_dated_min_dte} and aggressor known and premium >= "
        f"${cfg.far_dated_min_premium_usd:,}"
    )
    explanations = [
        f"Far-dated conviction: {_describe(packet)}, {dte} days to expiry (>= {cfg.far_dated_min_dte}), "
        f"{packet.side}er-initiated {packet.kind}.",
        f"Premium {format_usd(packet.premium_cents)} vs ${cfg.far_dated_min_premium_usd:,}: paying for time, "
        "not for a move this week.",
        _context_line(packet),
    ]
    bonus = _evidence_bonus(packet, ctx) + (
        0.1 if packet.premium_cents >= 2 * _cents(cfg.far_dated_min_premium_usd) else 0.0
    )
    metrics = _metrics(packet, ctx, days_to_expiry=float(dte))
    return _hit("far_dated_conviction", packet, rule, metrics, explanations, _confidence(0.55, packet, bonus))


_PPM = 1_000_000


def zero_dte_gamma(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> ClassifierHit | None:
    """Expires today (New York), strike within zero_dte_max_strike_distance of the underlying, size and premium."""
    if packet.size_contracts < cfg.zero_dte_min_contracts or packet.premium_cents < _cents(
        cfg.zero_dte_min_premium_usd
    ):
        return None
    spot = packet.underlying_e9
    if spot is None or spot <= 0 or days_to_expiry(packet) != 0:
        return None
    distance = abs(packet.strike_e9 - spot)
    # Integer parts per million, so the 1% edge is exact.
    if distance * _PPM > round(cfg.zero_dte_max_strike_distance * _PPM) * spot:
        return None
    rule = (
        f"expires today (America/New_York) and |strike - underlying| <= {cfg.zero_dte_max_strike_distance:.2%} "
        f"of the underlying and size >= {cfg.zero_dte_min_contracts:,} and premium >= "
        f"${cfg.zero_dte_min_premium_usd:,}"
    )
    explanations = [
        f"0DTE gamma: {_describe(packet)} expiring today, strike {distance / spot:.2%} from the underlying "
        f"(<= {cfg.zero_dte_max_strike_distance:.2%}), underlying {underlying_note(packet)}.",
        f"Size {packet.size_contracts:,} vs {cfg.zero_dte_min_contracts:,} contracts; premium "
        f"{format_usd(packet.premium_cents)} vs ${cfg.zero_dte_min_premium_usd:,}: dealers hedging this move "
        "the underlying today.",
        _context_line(packet),
    ]
    metrics = _metrics(packet, ctx, strike_distance=round(distance / spot, 6), underlying_price=spot / 1e9)
    if packet.underlying_age_ms is not None:
        metrics["underlying_age_ms"] = float(packet.underlying_age_ms)
    bonus = _evidence_bonus(packet, ctx) + (0.05 if distance * 4 <= spot * cfg.zero_dte_max_strike_distance else 0)
    return _hit("zero_dte_gamma", packet, rule, metrics, explanations, _confidence(0.55, packet, bonus))


PacketClassifier = Callable[[Packet, PacketContext, OptionsConfig], ClassifierHit | None]
PACKET_CLASSIFIERS: tuple[PacketClassifier, ...] = (
    large_sweep,
    golden_sweep,
    block_trade,
    unusual_spike,
    unusual_volume,
    new_position_likely,
    repeated_hits,
    call_overwrite,
    put_write,
    far_dated_conviction,
    zero_dte_gamma,
)
PACKET_CLASSIFIER_IDS: tuple[str, ...] = tuple(c.__name__ for c in PACKET_CLASSIFIERS)
"""The ids packet classifiers put on their hits, in classifier order."""


def classify_packet(packet: Packet, ctx: PacketContext, cfg: OptionsConfig) -> list[ClassifierHit]:
    """Run every packet classifier; return the hits in classifier order."""
    hits = []
    for classifier in PACKET_CLASSIFIERS:
        hit = classifier(packet, ctx, cfg)
        if hit is not None:
            hits.append(hit)
    return hits
