"""Equities settings: BEHAVIOR.md sections 8 and 9 defaults, FLOWTAPE_* overrides, interval validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.config import EquitiesConfig, OptionsConfig
from events.units import NS_PER_MS, NS_PER_S


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every test independent of FLOWTAPE_* variables set in the calling shell."""
    for name in EquitiesConfig.model_fields:
        monkeypatch.delenv(f"FLOWTAPE_{name.upper()}", raising=False)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        pytest.param("equity_quote_max_age_ms", 1500, id="quote-max-age"),
        pytest.param("dark_min_block_usd", 200_000, id="block-notional"),
        pytest.param("dark_block_min_shares", 2000, id="block-shares"),
        pytest.param("dark_max_spread_pct", 0.5, id="block-spread"),
        pytest.param("stealth_window_ms", 60_000, id="stealth-window"),
        pytest.param("stealth_min_prints", 4, id="stealth-prints"),
        pytest.param("stealth_min_print_shares", 200, id="stealth-print-shares"),
        pytest.param("stealth_min_total_shares", 3000, id="stealth-total"),
        pytest.param("stealth_cooldown_ms", 30_000, id="stealth-cooldown"),
        pytest.param("candle_late_ms", 2000, id="candle-lateness"),
        pytest.param("candle_intervals", "1s,5s,1m,5m,15m", id="candle-intervals"),
    ],
)
def test_defaults_match_behavior(field: str, expected: float | str) -> None:
    assert getattr(EquitiesConfig(), field) == expected


def test_every_setting_is_described() -> None:
    assert not [name for name, info in EquitiesConfig.model_fields.items() if not info.description]


def test_no_setting_shares_an_environment_variable_with_the_options_engine() -> None:
    assert not set(EquitiesConfig.model_fields) & set(OptionsConfig.model_fields)


def test_env_overrides_and_unit_properties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTAPE_STEALTH_WINDOW_MS", "30000")
    monkeypatch.setenv("FLOWTAPE_DARK_MIN_BLOCK_USD", "1000000")
    monkeypatch.setenv("FLOWTAPE_CANDLE_INTERVALS", "1m,5s")
    config = EquitiesConfig()
    assert config.stealth_window_ns == 30_000 * NS_PER_MS
    assert config.dark_min_block_cents == 100_000_000
    assert config.candle_interval_ns == (("5s", 5 * NS_PER_S), ("1m", 60 * NS_PER_S))
    assert config.equity_quote_max_age_ns == 1_500 * NS_PER_MS
    assert config.candle_late_ns == 2_000 * NS_PER_MS


@pytest.mark.parametrize(
    "intervals",
    [
        pytest.param("2s,3s", id="not-a-multiple-of-the-shortest"),
        pytest.param("", id="empty"),
        pytest.param("1s,1s", id="duplicate"),
        pytest.param("1w", id="unknown-unit"),
    ],
)
def test_bad_candle_intervals_are_refused(intervals: str) -> None:
    with pytest.raises(ValidationError):
        EquitiesConfig(candle_intervals=intervals)


def test_settings_are_frozen() -> None:
    config = EquitiesConfig()
    with pytest.raises(ValidationError):
        config.candle_late_ms = 1  # type: ignore[misc]
