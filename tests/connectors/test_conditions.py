"""Condition codes → canonical flags (BEHAVIOR §1), and price-tiered round lots."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pytest

from connectors.conditions import (
    Plan,
    equity_flags,
    is_odd_lot,
    option_flags,
    round_lot_shares,
    unknown_equity_codes,
    unknown_option_codes,
)
from events.units import price_e9

# ------------------------------------------------------------------------------------ options (OPRA)


@pytest.mark.parametrize(
    ("code", "flags"),
    [
        pytest.param("S", ("iso",), id="S-ISOI"),
        pytest.param("a", ("auction",), id="a-SLAN"),
        pytest.param("b", ("auction", "iso"), id="b-SLAI"),
        pytest.param("c", ("cross",), id="c-SLCN"),
        pytest.param("d", ("cross", "iso"), id="d-SLCI"),
        pytest.param("e", ("floor",), id="e-SLFT"),
        pytest.param("f", ("multi_leg",), id="f-MLET"),
        pytest.param("g", ("auction", "multi_leg"), id="g-MLAT"),
        pytest.param("h", ("cross", "multi_leg"), id="h-MLCT"),
        pytest.param("i", ("floor", "multi_leg"), id="i-MLFT"),
        pytest.param("j", ("multi_leg",), id="j-MESL"),
        pytest.param("k", ("auction", "stock_tied"), id="k-TLAT"),
        pytest.param("l", ("auction", "multi_leg"), id="l-MASL"),
        pytest.param("m", ("floor", "multi_leg"), id="m-MFSL"),
        pytest.param("n", ("stock_tied",), id="n-TLET"),
        pytest.param("o", ("cross", "stock_tied"), id="o-TLCT"),
        pytest.param("p", ("floor", "stock_tied"), id="p-TLFT"),
        pytest.param("q", ("stock_tied",), id="q-TESL"),
        pytest.param("r", ("auction", "stock_tied"), id="r-TASL"),
        pytest.param("s", ("floor", "stock_tied"), id="s-TFSL"),
        pytest.param("t", ("floor", "multi_leg"), id="t-CBMO"),
        pytest.param("u", ("compression",), id="u-MCTP"),
        pytest.param("v", ("extended_hours",), id="v-EXHT"),
        pytest.param("A", ("cancel",), id="A-CANC"),
        pytest.param("B", ("late",), id="B-OSEQ"),
        pytest.param("C", ("cancel",), id="C-CNCL"),
        pytest.param("D", ("late",), id="D-LATE"),
        pytest.param("E", ("cancel",), id="E-CNCO"),
        pytest.param("F", ("late",), id="F-OPEN"),
        pytest.param("G", ("cancel",), id="G-CNOL"),
        pytest.param("H", ("late",), id="H-OPNL"),
        pytest.param("I", (), id="I-AUTO"),
        pytest.param(" ", (), id="regular"),
    ],
)
def test_option_code(code: str, flags: tuple[str, ...]) -> None:
    assert option_flags(code) == flags
    assert option_flags([code]) == flags
    assert unknown_option_codes(code) == ()


@pytest.mark.parametrize(
    ("codes", "flags"),
    [
        pytest.param("", (), id="empty-string"),
        pytest.param([], (), id="empty-list"),
        pytest.param("S b", ("auction", "iso"), id="string-deduplicated"),
        pytest.param(["b", "S", " "], ("auction", "iso"), id="list-deduplicated"),
        pytest.param(("f", "o"), ("cross", "multi_leg", "stock_tied"), id="tuple-union"),
        pytest.param(iter(["v"]), ("extended_hours",), id="iterator"),
        pytest.param("aA", ("auction", "cancel"), id="case-sensitive"),
    ],
)
def test_option_code_sets(codes: str | Iterable[str], flags: tuple[str, ...]) -> None:
    assert option_flags(codes) == flags


@pytest.mark.parametrize(
    ("codes", "unknown"),
    [
        pytest.param("S", (), id="known"),
        pytest.param("Sw", ("w",), id="lowercase-w"),
        pytest.param(["Z", "9", "S", "9"], ("9", "Z"), id="sorted-deduplicated"),
        pytest.param(["SLAI"], ("SLAI",), id="mnemonic-not-letter"),
        pytest.param("IJKX", (), id="known-without-flag"),
    ],
)
def test_unknown_option_codes(codes: str | Iterable[str], unknown: tuple[str, ...]) -> None:
    assert unknown_option_codes(codes) == unknown
    assert option_flags(codes) == option_flags([c for c in codes if c not in unknown])


# ---------------------------------------------------------------------------------- equities (CTS/UTP)

_BOTH_PLANS = [
    ("F", ("iso",)),
    ("I", ("odd_lot",)),
    ("4", ("derivatively_priced",)),
    ("L", ("late",)),
    ("Z", ("late", "out_of_sequence")),
    ("U", ("extended_hours", "late", "out_of_sequence")),
    ("P", ("prior_reference_price",)),
    ("V", ("contingent",)),
    ("7", ("qct",)),
    ("C", ("cash_settlement",)),
    ("N", ("next_day_settlement",)),
    ("R", ("seller_settlement",)),
    ("T", ("extended_hours",)),
    ("X", ("cross",)),
    ("O", ("auction",)),
    ("6", ("auction",)),
    ("5", ("auction",)),
    ("Q", ("auction",)),
    ("M", ("auction",)),
    ("@", ()),
]


@pytest.mark.parametrize("plan", ["cts", "utp"])
@pytest.mark.parametrize(("code", "flags"), [pytest.param(c, f, id=c) for c, f in _BOTH_PLANS])
def test_equity_code_on_both_plans(code: str, flags: tuple[str, ...], plan: Plan) -> None:
    assert equity_flags(code, plan) == flags
    assert unknown_equity_codes(code, plan) == ()


@pytest.mark.parametrize(
    ("code", "plan", "flags", "unknown"),
    [
        pytest.param("W", "utp", ("average_price",), (), id="W-utp-average-price"),
        pytest.param("B", "cts", ("average_price",), (), id="B-cts-average-price"),
        pytest.param("B", "utp", (), (), id="B-utp-bunched"),
        pytest.param("W", "cts", (), ("W",), id="W-cts-undefined"),
    ],
)
def test_average_price_depends_on_the_plan(
    code: str, plan: Plan, flags: tuple[str, ...], unknown: tuple[str, ...]
) -> None:
    assert equity_flags(code, plan) == flags
    assert unknown_equity_codes(code, plan) == unknown


@pytest.mark.parametrize(
    ("codes", "plan", "flags"),
    [
        pytest.param(["@", "F", "T"], "utp", ("extended_hours", "iso"), id="alpaca-list"),
        pytest.param("F T", "cts", ("extended_hours", "iso"), id="ibkr-string"),
        pytest.param(["@", "I", "W"], "utp", ("average_price", "odd_lot"), id="odd-lot-average"),
        pytest.param("TU", "cts", ("extended_hours", "late", "out_of_sequence"), id="deduplicated"),
    ],
)
def test_equity_code_sets(codes: str | list[str], plan: Plan, flags: tuple[str, ...]) -> None:
    assert equity_flags(codes, plan) == flags


def test_unknown_equity_codes_are_reported_not_flagged() -> None:
    assert unknown_equity_codes(["@", "j", "FT"], "utp") == ("FT", "j")
    assert equity_flags(["@", "j", "FT"], "utp") == ()


# ----------------------------------------------------------------------------------------- round lots


@pytest.mark.parametrize(
    ("price", "shares"),
    [
        pytest.param("0.0001", 100, id="sub-penny"),
        pytest.param("249.99", 100, id="under-250"),
        pytest.param("250", 100, id="at-250"),
        pytest.param("250.000000001", 40, id="just-over-250"),
        pytest.param("250.01", 40, id="250.01"),
        pytest.param("1000", 40, id="at-1000"),
        pytest.param("1000.01", 10, id="1000.01"),
        pytest.param("10000", 10, id="at-10000"),
        pytest.param("10000.01", 1, id="10000.01"),
        pytest.param("500000", 1, id="brk-a"),
    ],
)
def test_round_lot_tiers(price: str, shares: int) -> None:
    assert round_lot_shares(price_e9(price)) == shares


@pytest.mark.parametrize(
    ("session", "shares"),
    [
        pytest.param(date(2025, 10, 31), 100, id="before-tiers"),
        pytest.param(date(2025, 11, 3), 40, id="first-tiered-session"),
        pytest.param(None, 40, id="current-rule"),
    ],
)
def test_round_lot_before_the_tiers_took_effect(session: date | None, shares: int) -> None:
    assert round_lot_shares(price_e9("500"), session=session) == shares


@pytest.mark.parametrize(
    ("price", "size", "odd"),
    [
        pytest.param("100", 99, True, id="100-99sh"),
        pytest.param("100", 100, False, id="100-100sh"),
        pytest.param("250", 99, True, id="250-99sh"),
        pytest.param("300", 39, True, id="300-39sh"),
        pytest.param("300", 40, False, id="300-40sh"),
        pytest.param("1000", 40, False, id="1000-40sh"),
        pytest.param("5000", 9, True, id="5000-9sh"),
        pytest.param("5000", 10, False, id="5000-10sh"),
        pytest.param("20000", 1, False, id="20000-1sh"),
    ],
)
def test_is_odd_lot(price: str, size: int, odd: bool) -> None:
    assert is_odd_lot(price_e9(price), size) is odd


def test_is_odd_lot_before_the_tiers() -> None:
    assert is_odd_lot(price_e9("300"), 40, session=date(2024, 6, 3))
