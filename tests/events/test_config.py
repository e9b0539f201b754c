"""Operator settings: BEHAVIOR.md defaults, FLOWTAPE_* environment overrides, validation, unit helpers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.config import OptionsConfig


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every test independent of FLOWTAPE_* variables set in the calling shell."""
    for name in OptionsConfig.model_fields:
        monkeypatch.delenv(f"FLOWTAPE_{name.upper()}", raising=False)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        pytest.param("nbbo_max_age_ms", 1500, id="nbbo-max-age"),
        pytest.param("at_side_band", 0.1, id="at-side-band"),
        pytest.param("packet_gap_ms", 100, id="packet-gap"),
        pytest.param("packet_window_ms", 500, id="packet-window"),
        pytest.param("sweep_min_side_ratio", 0.8, id="sweep-side-ratio"),
        pytest.param("block_min_contracts", 500, id="block-contracts"),
        pytest.param("block_min_premium_usd", 250_000, id="block-premium"),
        pytest.param("large_sweep_min_prints", 3, id="large-sweep-prints"),
        pytest.param("large_sweep_min_premium_usd", 40_000, id="large-sweep-premium"),
        pytest.param("large_sweep_min_z", 2.0, id="large-sweep-z"),
        pytest.param("rolling_window", 50, id="rolling-window"),
        pytest.param("z_min_samples", 12, id="z-min-samples"),
        pytest.param("alert_cooldown_ms", 60_000, id="alert-cooldown"),
        pytest.param("default_multiplier", 100, id="default-multiplier"),
    ],
)
def test_defaults_match_behavior(field: str, expected: float) -> None:
    assert getattr(OptionsConfig(), field) == expected


def test_every_setting_is_described() -> None:
    missing = [name for name, info in OptionsConfig.model_fields.items() if not info.description]
    assert not missing


@pytest.mark.parametrize(
    ("env", "value", "field", "expected"),
    [
        pytest.param("FLOWTAPE_PACKET_GAP_MS", "250", "packet_gap_ms", 250, id="packet-gap"),
        pytest.param("FLOWTAPE_AT_SIDE_BAND", "0.25", "at_side_band", 0.25, id="band"),
        pytest.param("FLOWTAPE_BLOCK_MIN_PREMIUM_USD", "100000", "block_min_premium_usd", 100_000, id="premium"),
        pytest.param("flowtape_packet_gap_ms", "120", "packet_gap_ms", 120, id="case-insensitive"),
    ],
)
def test_env_overrides(monkeypatch: pytest.MonkeyPatch, env: str, value: str, field: str, expected: float) -> None:
    monkeypatch.setenv(env, value)
    assert getattr(OptionsConfig(), field) == expected


def test_env_override_reaches_unit_properties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTAPE_PACKET_GAP_MS", "250")
    assert OptionsConfig().packet_gap_ns == 250_000_000


def test_unrelated_env_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTAPE_NOT_A_SETTING", "1")
    assert OptionsConfig() == OptionsConfig()


@pytest.mark.parametrize(
    ("env", "value"),
    [
        pytest.param("FLOWTAPE_PACKET_GAP_MS", "0", id="gap-zero"),
        pytest.param("FLOWTAPE_PACKET_GAP_MS", "-5", id="gap-negative"),
        pytest.param("FLOWTAPE_PACKET_GAP_MS", "abc", id="gap-garbage"),
        pytest.param("FLOWTAPE_PACKET_GAP_MS", "1.5", id="gap-fraction"),
        pytest.param("FLOWTAPE_AT_SIDE_BAND", "0.6", id="band-over-half"),
        pytest.param("FLOWTAPE_AT_SIDE_BAND", "-0.1", id="band-negative"),
        pytest.param("FLOWTAPE_SWEEP_MIN_SIDE_RATIO", "0.5", id="side-ratio-half"),
        pytest.param("FLOWTAPE_SWEEP_MIN_SIDE_RATIO", "1.1", id="side-ratio-over-one"),
        pytest.param("FLOWTAPE_ROLLING_WINDOW", "1", id="window-one"),
        pytest.param("FLOWTAPE_Z_MIN_SAMPLES", "1", id="min-samples-one"),
        pytest.param("FLOWTAPE_NBBO_MAX_AGE_MS", "0", id="max-age-zero"),
        pytest.param("FLOWTAPE_DEFAULT_MULTIPLIER", "0", id="multiplier-zero"),
        pytest.param("FLOWTAPE_ALERT_COOLDOWN_MS", "-1", id="cooldown-negative"),
    ],
)
def test_invalid_env_values_are_rejected(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError, match=env.removeprefix("FLOWTAPE_").lower()):
        OptionsConfig()


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"packet_window_ms": 0}, id="window-zero"),
        pytest.param({"block_min_contracts": -1}, id="block-negative"),
        pytest.param({"large_sweep_min_z": 0}, id="z-zero"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        OptionsConfig(**kwargs)  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    cfg = OptionsConfig()
    with pytest.raises(ValidationError):
        cfg.packet_gap_ms = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        pytest.param("nbbo_max_age_ns", 1_500_000_000, id="nbbo-max-age-ns"),
        pytest.param("packet_gap_ns", 100_000_000, id="packet-gap-ns"),
        pytest.param("packet_window_ns", 500_000_000, id="packet-window-ns"),
        pytest.param("watermark_lag_ns", 250_000_000, id="watermark-lag-ns"),
        pytest.param("alert_cooldown_ns", 60_000_000_000, id="alert-cooldown-ns"),
        pytest.param("block_min_premium_cents", 25_000_000, id="block-premium-cents"),
        pytest.param("large_sweep_min_premium_cents", 4_000_000, id="large-sweep-premium-cents"),
    ],
)
def test_unit_properties(prop: str, expected: int) -> None:
    value = getattr(OptionsConfig(), prop)
    assert value == expected
    assert isinstance(value, int)


def test_unit_properties_follow_overrides() -> None:
    cfg = OptionsConfig(packet_gap_ms=7, nbbo_max_age_ms=3, large_sweep_min_premium_usd=12_345)
    assert (cfg.packet_gap_ns, cfg.nbbo_max_age_ns, cfg.large_sweep_min_premium_cents) == (
        7_000_000,
        3_000_000,
        1_234_500,
    )
