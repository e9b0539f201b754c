"""Presentation filter views (BEHAVIOR section 6): what smart-money, balanced and all show; nothing computed
changes."""

from __future__ import annotations

import pytest

from events.config import OptionsConfig
from events.models import Alert, ClassifierHit, Packet
from events.views import FilterName, FilterProfile, etf_symbols, filter_profile, placement_class, visible
from operators.alerts import AlertBook
from operators.classifiers import PacketContext, classify_packet
from tests.factories import packet

CFG = OptionsConfig()


def _hits(p: Packet) -> list[ClassifierHit]:
    hits = classify_packet(p, PacketContext(), CFG)
    assert hits, "test packets should fire"
    return hits


ETFS = etf_symbols(CFG)
QQQ_CALL = "QQQ   260320C00500000"
AAPL_CALL = "AAPL  260320C00230000"


def _view_alert(symbol: str, premium_usd: float, placement_sizes: dict[str, int], side: str = "buy") -> Alert:
    p = packet(symbol)
    alert = AlertBook(CFG).on_packet(p, _hits(p))
    assert alert is not None
    return alert.model_copy(
        update={"premium_cents": round(premium_usd * 100), "placement_sizes": placement_sizes, "side": side}
    )


ASK = {"A": 100}
BID = {"B": 60, "BB": 10, "A": 30}
MID = {"MID": 80, "A": 20}
MISSING = {"MISSING": 40, "STALE": 20, "A": 40}


@pytest.mark.parametrize(
    ("symbol", "premium_usd", "placement", "profile", "shown"),
    [
        pytest.param(AAPL_CALL, 10_000, ASK, "smart-money", True, id="sm-10k-ask"),
        pytest.param(AAPL_CALL, 9_999.99, ASK, "smart-money", False, id="sm-under-10k"),
        pytest.param(QQQ_CALL, 49_999.99, ASK, "smart-money", False, id="sm-etf-under-50k"),
        pytest.param(QQQ_CALL, 50_000, ASK, "smart-money", True, id="sm-etf-50k"),
        pytest.param(AAPL_CALL, 24_999.99, BID, "smart-money", False, id="sm-bid-under-25k"),
        pytest.param(AAPL_CALL, 25_000, BID, "smart-money", True, id="sm-bid-25k"),
        pytest.param(AAPL_CALL, 19_999.99, MID, "smart-money", False, id="sm-mid-under-20k"),
        pytest.param(AAPL_CALL, 20_000, MID, "smart-money", True, id="sm-mid-20k"),
        pytest.param(AAPL_CALL, 49_999.99, MISSING, "smart-money", False, id="sm-missing-under-50k"),
        pytest.param(AAPL_CALL, 50_000, MISSING, "smart-money", True, id="sm-missing-50k"),
        pytest.param(
            QQQ_CALL, 99_999.99, MISSING | {"MISSING": 400}, "smart-money", True, id="sm-etf-missing-under-keep"
        ),
        pytest.param(QQQ_CALL, 100_000, BID, "smart-money", True, id="sm-keeps-100k"),
        pytest.param(AAPL_CALL, 5_000, ASK, "balanced", True, id="bal-5k"),
        pytest.param(AAPL_CALL, 4_999.99, ASK, "balanced", False, id="bal-under-5k"),
        pytest.param(QQQ_CALL, 24_999.99, ASK, "balanced", False, id="bal-etf-under-25k"),
        pytest.param(AAPL_CALL, 12_500, BID, "balanced", True, id="bal-bid-12.5k"),
        pytest.param(AAPL_CALL, 9_999.99, MID, "balanced", False, id="bal-mid-under-10k"),
        pytest.param(AAPL_CALL, 24_999.99, MISSING, "balanced", False, id="bal-missing-under-25k"),
        pytest.param(QQQ_CALL, 50_000, MISSING, "balanced", True, id="bal-keeps-50k"),
        pytest.param(QQQ_CALL, 0.01, MISSING, "all", True, id="all-shows-everything"),
    ],
)
def test_visible(symbol: str, premium_usd: float, placement: dict[str, int], profile: FilterName, shown: bool) -> None:
    alert = _view_alert(symbol, premium_usd, placement)
    before = alert.model_dump()
    assert visible(alert, filter_profile(profile, CFG), etf_symbols=ETFS) is shown
    assert alert.model_dump() == before, "a view never changes what was computed"


def test_smart_money_keep_floor_overrides_every_rule() -> None:
    alert = _view_alert(QQQ_CALL, 99_999.99, BID)
    assert visible(alert, filter_profile("smart-money", CFG), etf_symbols=ETFS)  # 99,999.99 >= every floor but keep
    tiny_keep = FilterProfile("smart-money", 10**9, 10**9, 10**9, 10**9, 10**9, keep_cents=100)
    assert visible(_view_alert(AAPL_CALL, 1, ASK), tiny_keep, etf_symbols=ETFS)


@pytest.mark.parametrize(
    ("sizes", "side", "expected"),
    [
        pytest.param({"A": 60, "B": 40}, "buy", "other", id="ask-side"),
        pytest.param({"B": 30, "BB": 21, "A": 49}, "sell", "bid", id="bid-majority"),
        pytest.param({"B": 50, "A": 50}, "unknown", "other", id="bid-half-is-not-most"),
        pytest.param({"MID": 51, "A": 49}, "unknown", "mid", id="mid-majority"),
        pytest.param({"STALE": 30, "MISSING": 21, "B": 49}, "unknown", "missing", id="unquoted-majority"),
        pytest.param({"CROSSED": 60, "B": 40}, "unknown", "missing", id="crossed-is-unquoted"),
        pytest.param({}, "sell", "bid", id="old-alert-sold"),
        pytest.param({}, "buy", "other", id="old-alert-bought"),
    ],
)
def test_placement_class(sizes: dict[str, int], side: str, expected: str) -> None:
    assert placement_class(_view_alert(AAPL_CALL, 1_000, sizes, side)) == expected


def test_filter_profiles_follow_settings() -> None:
    cfg = OptionsConfig(smart_money_min_premium_usd=1_000, balanced_filter_scale=0.1, filter_etf_symbols="spy, iwm")
    assert filter_profile("smart-money", cfg).min_cents == 100_000
    assert filter_profile("balanced", cfg).min_cents == 10_000
    assert filter_profile("balanced", cfg).keep_cents == 1_000_000
    assert filter_profile("all", cfg) == FilterProfile("all", 0, 0, 0, 0, 0, None)
    assert etf_symbols(cfg) == {"SPY", "IWM"}
    assert "QQQ" in ETFS
