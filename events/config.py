"""Operator settings: every threshold of BEHAVIOR.md is a setting, read from `FLOWTAPE_<NAME>` env vars.

Flows build these once and pass them to operators; operators never read the environment themselves.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.models import MAX_ALERT_IDS
from events.units import NS_PER_MS, NS_PER_S, usd_to_cents


class OptionsConfig(BaseSettings):
    """Settings of the options engine (BEHAVIOR sections 2 to 7)."""

    model_config = SettingsConfigDict(env_prefix="FLOWTAPE_", frozen=True, extra="ignore")

    nbbo_max_age_ms: int = Field(1500, gt=0, description="quote older than this at the print -> STALE")
    at_side_band: float = Field(0.1, ge=0.0, le=0.5, description="share of the spread counted as at bid/ask")
    packet_gap_ms: int = Field(100, gt=0, description="max gap between consecutive prints of one packet")
    packet_window_ms: int = Field(500, gt=0, description="max span of one packet")
    underlying_parity_window_ms: int = Field(
        300_000,
        gt=0,
        description="underlying price: a quote older than this is not used, the underlying's own or each call and"
        " put quote of a put-call parity pair (minutes, not seconds: a tape quoted only on trades seldom has both"
        " rights of a strike within seconds)",
    )
    watermark_lag_ms: int = Field(
        250, ge=0, description="allowed out-of-orderness: the watermark trails the newest event by this"
    )
    sweep_min_side_ratio: float = Field(0.8, gt=0.5, le=1.0, description="share of size on one side for a sweep")
    block_min_contracts: int = Field(500, gt=0, description="single print this large is a block")
    block_min_premium_usd: int = Field(250_000, gt=0, description="single print with this premium is a block")
    block_flag_min_contracts: int = Field(
        100,
        gt=0,
        description="block_trade: a cross/floor print under the block size needs at least this many contracts",
    )
    block_trade_min_premium_usd: int = Field(
        20_000,
        ge=0,
        description="block_trade: any block needs this premium (800 lots at a cent is no block trade)",
    )
    large_sweep_min_prints: int = Field(3, gt=0, description="large_sweep: minimum prints in the sweep")
    large_sweep_min_premium_usd: int = Field(40_000, gt=0, description="large_sweep: minimum premium")
    large_sweep_min_z: float = Field(2.0, gt=0, description="large_sweep: or premium z-score at least this")
    large_sweep_z_floor_premium_usd: int = Field(
        20_000,
        ge=0,
        description="large_sweep: the z-score clause also needs this premium (z confirms, never alone)",
    )
    large_sweep_z_floor_contracts: int = Field(
        50, ge=0, description="large_sweep: and the z-score clause needs this many contracts (a 6-lot is no sweep)"
    )
    rolling_window: int = Field(50, ge=2, description="rolling baseline window, in packets")
    z_min_samples: int = Field(12, ge=2, description="z-score is absent below this many samples")
    alert_cooldown_ms: int = Field(
        60_000,
        ge=0,
        description="same contract and classifier within this of the alert's first raise update it; then a new one",
    )
    alert_max_evidence_ids: int = Field(
        20, ge=1, le=MAX_ALERT_IDS, description="alerts cite at most this many print ids (the largest subjects' prints)"
    )
    alert_max_subject_ids: int = Field(
        10,
        ge=1,
        le=MAX_ALERT_IDS,
        description="alerts cite at most this many subject ids and hit ids (the first subject's, then the largest)",
    )
    default_multiplier: int = Field(100, gt=0, description="contract multiplier when reference data is silent")
    kernel: Literal["native", "python"] = Field(
        "native",
        description="the options engine's per-print stages (quote gating, join, placement, underlying price, packets):"
        " native = the compiled kernel (operators/kernel) when it is built, else python; python = the readable"
        " reference operators (same output)",
    )
    # Structures (BEHAVIOR section 5) and flow context (section 7).
    structure_window_ms: int = Field(
        500, gt=0, description="structures: legs' packet spans at most this far apart (0 when they overlap)"
    )
    structure_size_ratio_max: float = Field(
        3.0, ge=1.0, description="structures: largest / smallest leg size at most this for comparable sizes"
    )
    structure_max_legs: int = Field(
        4, ge=2, description="structures: more candidate legs than this is mixed evidence, no structure"
    )
    structure_min_leg_contracts: int = Field(
        50,
        gt=0,
        description="structures: unflagged packets under this or of unknown side are never paired (coincidence)",
    )
    structure_leg_usual_multiple: float = Field(
        3.0,
        ge=0.0,
        description="structures: an unflagged leg is also at least this multiple of its contract's median packet size",
    )
    structure_min_leg_premium_usd: int = Field(
        5_000,
        ge=0,
        description="structures: and an unflagged leg carries this premium (a 160-lot at 2 cents is no leg)",
    )
    structure_classifier_min_premium_usd: int = Field(
        25_000,
        ge=0,
        description="structure classifiers: a structure under this gross premium is reported but fires none",
    )
    flow_context_windows: str = Field(
        "1m,5m,1h,4h,1d", description="flow context: comma-separated sliding windows (units s, m, h, d)"
    )
    flow_context_emit_ms: int = Field(
        1000, gt=0, description="flow context: at most one event per window per this much event time"
    )
    flow_context_exact_ms: int = Field(
        300_000,
        gt=0,
        description="flow context: packets this recent count in every window exactly; older ones count in steps of"
        " flow_context_step_ms (a step leaves a window with its newest packet), so state stays flat over a session",
    )
    flow_context_step_ms: int = Field(
        60_000, gt=0, description="flow context: the step in which packets older than flow_context_exact_ms count"
    )
    flow_context_neutral_band: float = Field(
        0.1, ge=0.0, lt=1.0, description="flow context: sentiment strength below this reads neutral"
    )
    flow_context_large_premium_usd: int = Field(
        100_000, gt=0, description="flow context: a packet with this premium counts as institutional size"
    )
    # Packet classifiers (BEHAVIOR section 6) beyond large_sweep and block_trade, and presentation filters.
    golden_sweep_min_premium_usd: int = Field(
        1_000_000, gt=0, description="golden_sweep: minimum sweep premium (and size above open interest)"
    )
    unusual_spike_floor_contracts: int = Field(
        100, gt=0, description="unusual_spike: size at least this always (with the premium floor)"
    )
    unusual_spike_min_premium_usd: int = Field(
        20_000, gt=0, description="unusual_spike: premium at least this always (with the size floor)"
    )
    unusual_spike_min_contracts: int = Field(
        400, gt=0, description="unusual_spike: above the floors, size at least this, or a z-score clause"
    )
    unusual_spike_min_premium_z: float = Field(
        2.5, gt=0, description="unusual_spike: above the floors, or premium z at least this"
    )
    unusual_spike_min_size_z: float = Field(
        2.0, gt=0, description="unusual_spike: above the floors, or size z at least this"
    )
    unusual_volume_bucket_ratio: float = Field(
        5.0, gt=1.0, description="unusual_volume: 5-minute volume at least this multiple of its historical bucket mean"
    )
    unusual_volume_min_bucket_contracts: int = Field(
        50, ge=0, description="unusual_volume: the 5-minute clause also needs this much volume (near-zero baselines)"
    )
    unusual_volume_min_day_contracts: int = Field(
        500, gt=0, description="unusual_volume: or day volume above open interest and at least this"
    )
    unusual_volume_min_premium_usd: int = Field(
        10_000,
        ge=0,
        description="unusual_volume: the packet taking volume over a line carries at least this premium (0: any)",
    )
    new_position_min_contracts: int = Field(
        100, gt=0, description="new_position_likely: size above open interest and at least this"
    )
    new_position_min_premium_usd: int = Field(
        10_000, ge=0, description="new_position_likely: and premium at least this"
    )
    repeat_min_packets: int = Field(3, ge=2, description="repeated hits: same contract and side, at least this many")
    repeat_window_ms: int = Field(60_000, gt=0, description="repeated hits: packets within this much time")
    repeat_min_packet_premium_usd: int = Field(
        10_000, ge=0, description="repeated hits: packets under this premium do not count (0: every packet)"
    )
    repeat_min_packet_contracts: int = Field(
        25, ge=0, description="repeated hits: packets under this many contracts do not count (0: every packet)"
    )
    write_min_contracts: int = Field(
        500, gt=0, description="call_overwrite / put_write: a large packet sold at the bid has this many contracts"
    )
    write_min_premium_usd: int = Field(
        50_000, gt=0, description="call_overwrite / put_write: and premium at least this"
    )
    far_dated_min_dte: int = Field(60, gt=0, description="far_dated_conviction: days to expiry at least this")
    far_dated_min_premium_usd: int = Field(
        50_000, gt=0, description="far_dated_conviction: large activity is an aggressor-known packet of this premium"
    )
    zero_dte_max_strike_distance: float = Field(
        0.01, gt=0.0, lt=1.0, description="zero_dte_gamma: strike within this fraction of the underlying price"
    )
    zero_dte_min_contracts: int = Field(400, gt=0, description="zero_dte_gamma: size at least this")
    zero_dte_min_premium_usd: int = Field(20_000, gt=0, description="zero_dte_gamma: premium at least this")
    filter_etf_symbols: str = Field(
        "SPY,QQQ,IWM,DIA,XLF,XLE,XLK,SMH,GLD,SLV,TLT,HYG,EEM,EFA,KRE,XBI,ARKK,UVXY,SQQQ,TQQQ",
        description="presentation filters: underlyings treated as ETFs (comma-separated)",
    )
    smart_money_min_premium_usd: int = Field(10_000, ge=0, description="smart-money view: hide alerts under this")
    smart_money_etf_min_premium_usd: int = Field(
        50_000, ge=0, description="smart-money view: hide ETF alerts under this"
    )
    smart_money_bid_min_premium_usd: int = Field(
        25_000, ge=0, description="smart-money view: hide mostly bid-side alerts under this"
    )
    smart_money_mid_min_premium_usd: int = Field(
        20_000, ge=0, description="smart-money view: hide mostly mid-market alerts under this"
    )
    smart_money_missing_nbbo_min_premium_usd: int = Field(
        50_000, ge=0, description="smart-money view: hide alerts mostly without a fresh NBBO under this"
    )
    smart_money_keep_premium_usd: int = Field(
        100_000, ge=0, description="smart-money view: always show alerts with at least this premium"
    )
    balanced_filter_scale: float = Field(
        0.5, ge=0.0, le=1.0, description="balanced view: the smart-money thresholds times this"
    )

    @field_validator("flow_context_windows")
    @classmethod
    def _windows_parse(cls, value: str) -> str:
        parse_windows(value)
        return value

    @property
    def nbbo_max_age_ns(self) -> int:
        return self.nbbo_max_age_ms * NS_PER_MS

    @property
    def packet_gap_ns(self) -> int:
        return self.packet_gap_ms * NS_PER_MS

    @property
    def packet_window_ns(self) -> int:
        return self.packet_window_ms * NS_PER_MS

    @property
    def underlying_parity_window_ns(self) -> int:
        return self.underlying_parity_window_ms * NS_PER_MS

    @property
    def watermark_lag_ns(self) -> int:
        return self.watermark_lag_ms * NS_PER_MS

    @property
    def alert_cooldown_ns(self) -> int:
        return self.alert_cooldown_ms * NS_PER_MS

    @property
    def block_min_premium_cents(self) -> int:
        return usd_to_cents(self.block_min_premium_usd)

    @property
    def large_sweep_min_premium_cents(self) -> int:
        return usd_to_cents(self.large_sweep_min_premium_usd)

    @property
    def structure_window_ns(self) -> int:
        return self.structure_window_ms * NS_PER_MS

    @property
    def flow_context_emit_ns(self) -> int:
        return self.flow_context_emit_ms * NS_PER_MS

    @property
    def flow_context_exact_ns(self) -> int:
        return self.flow_context_exact_ms * NS_PER_MS

    @property
    def flow_context_step_ns(self) -> int:
        return self.flow_context_step_ms * NS_PER_MS

    @property
    def flow_context_large_premium_cents(self) -> int:
        return usd_to_cents(self.flow_context_large_premium_usd)

    @property
    def flow_context_window_ns(self) -> tuple[tuple[str, int], ...]:
        """Return the flow-context windows as (label, length in ns), shortest first."""
        return parse_windows(self.flow_context_windows)


_UNIT_NS = {"s": NS_PER_S, "m": 60 * NS_PER_S, "h": 3_600 * NS_PER_S, "d": 86_400 * NS_PER_S}


def parse_windows(text: str) -> tuple[tuple[str, int], ...]:
    """Parse `1m,5m,1h` into ((label, ns), ...) sorted by length; refuse empty, unknown units and duplicates."""
    out: dict[int, str] = {}
    for raw in text.split(","):
        label = raw.strip()
        number, unit = label[:-1], label[-1:]
        if unit not in _UNIT_NS or not number.isdigit() or int(number) <= 0:
            raise ValueError(f"window {label!r} is not a positive whole number of s, m, h or d")
        length = int(number) * _UNIT_NS[unit]
        if length in out:
            raise ValueError(f"windows {out[length]!r} and {label!r} have the same length")
        out[length] = label
    return tuple((label, length) for length, label in sorted(out.items()))


class EquitiesConfig(BaseSettings):
    """Settings of the equities engine: quote join, eligibility, dark inference and candles (BEHAVIOR 2, 8, 9)."""

    model_config = SettingsConfigDict(env_prefix="FLOWTAPE_", frozen=True, extra="ignore")

    equity_quote_max_age_ms: int = Field(
        1500, gt=0, description="equities: consolidated quote older than this at the print -> STALE"
    )
    equities_kernel: Literal["native", "python"] = Field(
        "native",
        description="equities: the per-print stages (quote gating, join, placement, eligibility): native = the"
        " compiled kernel (operators/kernel) when it is built, else python; python = the readable reference"
        " operators (same output)",
    )
    equity_at_side_band: float = Field(
        0.1, ge=0.0, le=0.5, description="equities: share of the spread counted as at the bid/ask"
    )
    dark_min_block_usd: int = Field(
        200_000, gt=0, description="absorbed_block: off-exchange print at the midpoint with at least this notional"
    )
    dark_block_min_shares: int = Field(2000, gt=0, description="absorbed_block: and at least this many shares")
    dark_max_spread_pct: float = Field(
        0.5, gt=0.0, description="absorbed_block: quoted spread at most this percent of the midpoint"
    )
    stealth_window_ms: int = Field(
        60_000, gt=0, description="stealth_accumulation / distribution: off-exchange prints within this window"
    )
    stealth_min_prints: int = Field(
        4, ge=2, description="stealth_accumulation / distribution: at least this many same-side prints"
    )
    stealth_min_print_shares: int = Field(
        200, gt=0, description="stealth_accumulation / distribution: a print counts with at least this many shares"
    )
    stealth_min_total_shares: int = Field(
        3000, gt=0, description="stealth_accumulation / distribution: the counted prints total at least this"
    )
    stealth_cooldown_ms: int = Field(
        30_000, ge=0, description="stealth_accumulation / distribution: at most one per underlying and kind per this"
    )
    dark_adv_full_pct: float = Field(
        0.5,
        gt=0.0,
        description="dark confidence: shares at this percent of average daily volume earn the full ADV credit",
    )
    dark_level_tick_cents: int = Field(
        1, gt=0, description="dark levels: off-exchange prints are grouped at the price rounded to this many cents"
    )
    dark_level_top_n: int = Field(10, gt=0, description="dark levels: levels ranked and published per session")
    dark_level_emit_ms: int = Field(
        1000,
        gt=0,
        description="dark levels: changed top levels are published at most once per this much event time",
    )
    candle_late_ms: int = Field(
        2000,
        ge=0,
        description="candles: allowed lateness; a window closes when the newest print is this far past its end",
    )
    candle_intervals: str = Field(
        "1s,5s,1m,5m,15m",
        description="candles: comma-separated intervals (units s, m, h), each a multiple of the shortest",
    )

    @field_validator("candle_intervals")
    @classmethod
    def _intervals_parse(cls, value: str) -> str:
        intervals = parse_windows(value)
        shortest = intervals[0][1]
        uneven = [label for label, length in intervals if length % shortest]
        if uneven:
            raise ValueError(f"candle intervals {uneven} are not multiples of the shortest, {intervals[0][0]}")
        return value

    @property
    def equity_quote_max_age_ns(self) -> int:
        return self.equity_quote_max_age_ms * NS_PER_MS

    @property
    def dark_min_block_cents(self) -> int:
        return usd_to_cents(self.dark_min_block_usd)

    @property
    def stealth_window_ns(self) -> int:
        return self.stealth_window_ms * NS_PER_MS

    @property
    def stealth_cooldown_ns(self) -> int:
        return self.stealth_cooldown_ms * NS_PER_MS

    @property
    def dark_level_emit_ns(self) -> int:
        return self.dark_level_emit_ms * NS_PER_MS

    @property
    def candle_late_ns(self) -> int:
        return self.candle_late_ms * NS_PER_MS

    @property
    def candle_interval_ns(self) -> tuple[tuple[str, int], ...]:
        """Return the candle intervals as (label, length in ns), shortest first."""
        return parse_windows(self.candle_intervals)


class QuarantineConfig(BaseSettings):
    """Settings of the quarantine in front of every engine: events stamped too far ahead of their underlying's
    stream (`operators.quarantine`)."""

    model_config = SettingsConfigDict(env_prefix="FLOWTAPE_", frozen=True, extra="ignore")

    quarantine_ahead_s: int = Field(
        86_400,
        gt=0,
        description="quarantine: a print or quote more than this far ahead of its underlying's newest admitted"
        " event waits until the tape confirms it (an overnight gap stays under it; a weekend is confirmed)",
    )
    quarantine_confirm: int = Field(
        3,
        ge=1,
        description="quarantine: timed events that must agree before the stream moves to a far-ahead time, or"
        " before a suspect is set aside (and, at the start, before the stream gets a time)",
    )
    quarantine_max_held: int = Field(
        10_000,
        ge=1,
        description="quarantine: events held per underlying at most (past it the oldest suspect is rejected)",
    )

    @field_validator("quarantine_max_held")
    @classmethod
    def _holds_a_confirmation(cls, value: int, info: ValidationInfo) -> int:
        confirm = info.data.get("quarantine_confirm", 1)
        if value < confirm:
            raise ValueError(f"quarantine_max_held ({value}) must be at least quarantine_confirm ({confirm})")
        return value

    @property
    def quarantine_ahead_ns(self) -> int:
        return self.quarantine_ahead_s * NS_PER_S
