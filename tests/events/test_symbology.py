"""OCC/OSI symbology: parse and format, padded and compact, with useful errors."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.symbology import OSI_LENGTH, OccSymbol, format_occ, parse_occ, underlying_for_root

E9 = 1_000_000_000


@pytest.mark.parametrize(
    ("symbol", "root", "underlying", "expiry", "right", "strike_e9"),
    [
        pytest.param("AAPL  250117C00150000", "AAPL", "AAPL", date(2025, 1, 17), "C", 150 * E9, id="padded-call"),
        pytest.param("AAPL250117P00150000", "AAPL", "AAPL", date(2025, 1, 17), "P", 150 * E9, id="compact-put"),
        pytest.param("SPXW  260320C05800000", "SPXW", "SPX", date(2026, 3, 20), "C", 5800 * E9, id="spxw-to-spx"),
        pytest.param("SPXW260320C05800000", "SPXW", "SPX", date(2026, 3, 20), "C", 5800 * E9, id="spxw-compact"),
        pytest.param("NDXP  260320P20000000", "NDXP", "NDX", date(2026, 3, 20), "P", 20000 * E9, id="ndxp-to-ndx"),
        pytest.param("F     250620C00012000", "F", "F", date(2025, 6, 20), "C", 12 * E9, id="one-char-root"),
        pytest.param("F250620C00012000", "F", "F", date(2025, 6, 20), "C", 12 * E9, id="one-char-compact"),
        pytest.param("GOOGL1251219C00200000", "GOOGL1", "GOOGL1", date(2025, 12, 19), "C", 200 * E9, id="six-char"),
        pytest.param("BRKB  250117C00002500", "BRKB", "BRKB", date(2025, 1, 17), "C", 2_500_000_000, id="strike-2.5"),
        pytest.param("XYZ   250117P00000500", "XYZ", "XYZ", date(2025, 1, 17), "P", 500_000_000, id="strike-0.5"),
        pytest.param("XYZ   250117P00000001", "XYZ", "XYZ", date(2025, 1, 17), "P", 1_000_000, id="strike-0.001"),
        pytest.param("XYZ   250117C99999999", "XYZ", "XYZ", date(2025, 1, 17), "C", 99_999_999_000_000, id="max"),
        pytest.param("BRK.B 250117C00400000", "BRK.B", "BRK.B", date(2025, 1, 17), "C", 400 * E9, id="dotted-root"),
        pytest.param("  SPY   260320C00580000  ", "SPY", "SPY", date(2026, 3, 20), "C", 580 * E9, id="outer-spaces"),
        pytest.param("SPY   240229C00500000", "SPY", "SPY", date(2024, 2, 29), "C", 500 * E9, id="leap-day"),
    ],
)
def test_parse_occ(symbol: str, root: str, underlying: str, expiry: date, right: str, strike_e9: int) -> None:
    occ = parse_occ(symbol)
    assert occ == OccSymbol(root=root, expiry=expiry, right=right, strike_e9=strike_e9)  # type: ignore[arg-type]
    assert occ.underlying == underlying
    assert len(occ.osi) == OSI_LENGTH
    assert parse_occ(occ.osi) == occ


@pytest.mark.parametrize(
    ("root", "expiry", "right", "strike_e9", "expected"),
    [
        pytest.param("AAPL", date(2025, 1, 17), "C", 150 * E9, "AAPL  250117C00150000", id="padded"),
        pytest.param("F", date(2025, 6, 20), "P", 12 * E9, "F     250620P00012000", id="one-char"),
        pytest.param("GOOGL1", date(2025, 12, 19), "C", 200 * E9, "GOOGL1251219C00200000", id="six-char"),
        pytest.param("BRKB", date(2025, 1, 17), "C", 2_500_000_000, "BRKB  250117C00002500", id="strike-2.5"),
        pytest.param("XYZ", date(2025, 1, 17), "P", 500_000_000, "XYZ   250117P00000500", id="strike-0.5"),
    ],
)
def test_format_occ(root: str, expiry: date, right: str, strike_e9: int, expected: str) -> None:
    assert format_occ(root, expiry, right, strike_e9) == expected


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        pytest.param("AAPL  250117X00150000", "right must be C or P", id="wrong-right"),
        pytest.param("AAPL  250117c00150000", "right must be C or P", id="lowercase-right"),
        pytest.param("AAPL  250117C0015000A", "must be digits", id="non-digit-strike"),
        pytest.param("AAPL  2501A7C00150000", "must be digits", id="non-digit-expiry"),
        pytest.param("AAPL  251317C00150000", "not a date", id="month-13"),
        pytest.param("AAPL  250230C00150000", "not a date", id="feb-30"),
        pytest.param("AAPL  250100C00150000", "not a date", id="day-0"),
        pytest.param("AAPL", "too short", id="too-short"),
        pytest.param("250117C00150000", "too short", id="no-root"),
        pytest.param("", "too short", id="empty"),
        pytest.param("ABCDEFG250117C00150000", "root must be 1-6", id="root-too-long"),
        pytest.param("BRK B 250117C00150000", "root must be 1-6", id="space-in-root"),
        pytest.param("AB$   250117C00150000", "root must be 1-6", id="symbol-in-root"),
        pytest.param("AAPL  250117C00000000", "strike must be positive", id="zero-strike"),
        pytest.param("AAPL  250117C٠٠١٥٠٠٠٠", "must be digits", id="arabic-indic-strike"),
        pytest.param("AAPL  250117C0015000²", "must be digits", id="superscript-strike"),
    ],
)
def test_parse_occ_rejects_with_useful_message(symbol: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_occ(symbol)
    if symbol.strip():
        assert repr(symbol) in str(info.value), "the message should quote the offending symbol"


@pytest.mark.parametrize(
    ("root", "right", "strike_e9", "message"),
    [
        pytest.param("AAPL", "C", 150 * E9 + 1, "finer than OSI", id="sub-tenth-cent-strike"),
        pytest.param("AAPL", "X", 150 * E9, "right must be C or P", id="bad-right"),
        pytest.param("", "C", 150 * E9, "root must be 1-6", id="empty-root"),
        pytest.param("ABCDEFG", "C", 150 * E9, "root must be 1-6", id="root-too-long"),
    ],
)
def test_format_occ_rejects(root: str, right: str, strike_e9: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_occ(root, date(2025, 1, 17), right, strike_e9)


@pytest.mark.parametrize(
    ("root", "underlying"),
    [("SPXW", "SPX"), ("SPXPM", "SPX"), ("NDXP", "NDX"), ("RUTW", "RUT"), ("VIXW", "VIX"), ("SPY", "SPY")],
    ids=["spxw", "spxpm", "ndxp", "rutw", "vixw", "identity"],
)
def test_underlying_for_root(root: str, underlying: str) -> None:
    assert underlying_for_root(root) == underlying


roots = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
rights = st.sampled_from(["C", "P"])
strikes_e9 = st.integers(min_value=1, max_value=99_999_999).map(lambda thousandths: thousandths * 1_000_000)


@settings(max_examples=200, deadline=None)
@given(roots, expiries, rights, strikes_e9)
def test_format_parse_round_trip(root: str, expiry: date, right: str, strike_e9: int) -> None:
    padded = format_occ(root, expiry, right, strike_e9)
    assert len(padded) == OSI_LENGTH
    occ = parse_occ(padded)
    assert (occ.root, occ.expiry, occ.right, occ.strike_e9) == (root, expiry, right, strike_e9)
    assert format_occ(occ.root, occ.expiry, occ.right, occ.strike_e9) == padded
    compact = padded.replace(" ", "")
    assert parse_occ(compact) == occ
    assert parse_occ(compact).osi == padded
