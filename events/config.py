"""Operator settings: every threshold of BEHAVIOR.md is a setting, read from `FLOWTAPE_<NAME>` env vars.

Flows build these once and pass them to operators; operators never read the environment themselves.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.units import NS_PER_MS, usd_to_cents


class OptionsConfig(BaseSettings):
    """Settings of the options engine (BEHAVIOR sections 2, 3, 4 and 6)."""

    model_config = SettingsConfigDict(env_prefix="FLOWTAPE_", frozen=True, extra="ignore")

    nbbo_max_age_ms: int = Field(1500, gt=0, description="quote older than this at the print -> STALE")
    at_side_band: float = Field(0.1, ge=0.0, le=0.5, description="share of the spread counted as at bid/ask")
    packet_gap_ms: int = Field(100, gt=0, description="max gap between consecutive prints of one packet")
    packet_window_ms: int = Field(500, gt=0, description="max span of one packet")
    watermark_lag_ms: int = Field(
        250, ge=0, description="allowed out-of-orderness: the watermark trails the newest event by this"
    )
    sweep_min_side_ratio: float = Field(0.8, gt=0.5, le=1.0, description="share of size on one side for a sweep")
    block_min_contracts: int = Field(500, gt=0, description="single print this large is a block")
    block_min_premium_usd: int = Field(250_000, gt=0, description="single print with this premium is a block")
    large_sweep_min_prints: int = Field(3, gt=0, description="large_sweep: minimum prints in the sweep")
    large_sweep_min_premium_usd: int = Field(40_000, gt=0, description="large_sweep: minimum premium")
    large_sweep_min_z: float = Field(2.0, gt=0, description="large_sweep: or premium z-score at least this")
    rolling_window: int = Field(50, ge=2, description="rolling baseline window, in packets")
    z_min_samples: int = Field(12, ge=2, description="z-score is absent below this many samples")
    alert_cooldown_ms: int = Field(60_000, ge=0, description="same contract and classifier within this updates")
    default_multiplier: int = Field(100, gt=0, description="contract multiplier when reference data is silent")

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
