"""Size and last-sale eligibility of equity prints (BEHAVIOR sections 8 and 9), with price-tiered round lots."""

from __future__ import annotations

import pytest

from connectors.conditions import equity_flags
from events.lots import ROUND_LOT_TIERS_SINCE_NS, round_lot_at
from events.units import price_e9
from operators.eligibility import (
    LAST_SALE_EXCLUDING_FLAGS,
    PRICED_OFF_QUOTE_FLAGS,
    SIZE_EXCLUDING_FLAGS,
    eligibility,
)
from tests.factories import ts

T = ts(0)  # 2026-03-02: price-tiered round lots in force


@pytest.mark.parametrize(
    ("conditions", "size_ok", "last_sale_ok", "reasons"),
    [
        pytest.param((), True, True, (), id="regular"),
        pytest.param(("iso",), True, True, (), id="iso-is-regular"),
        pytest.param(("cross",), True, True, (), id="cross-counts"),
        pytest.param(("auction",), True, True, (), id="auction-counts"),
        pytest.param(("odd_lot",), False, False, ("odd_lot",), id="odd-lot-flag"),
        pytest.param(("average_price",), False, False, ("average_price",), id="average-price"),
        pytest.param(("derivatively_priced",), False, False, ("derivatively_priced",), id="derivatively-priced"),
        pytest.param(("late",), False, False, ("late",), id="late"),
        pytest.param(("late", "out_of_sequence"), False, False, ("late", "out_of_sequence"), id="out-of-sequence"),
        pytest.param(("prior_reference_price",), False, False, ("prior_reference_price",), id="prior-reference"),
        pytest.param(("contingent",), False, False, ("contingent",), id="contingent"),
        pytest.param(("qct",), False, False, ("qct",), id="qct"),
        pytest.param(("cash_settlement",), False, False, ("cash_settlement",), id="cash"),
        pytest.param(("next_day_settlement",), False, False, ("next_day_settlement",), id="next-day"),
        pytest.param(("seller_settlement",), False, False, ("seller_settlement",), id="seller"),
        pytest.param(("extended_hours",), True, False, ("extended_hours",), id="extended-hours-size-only"),
        pytest.param(("extended_hours", "iso"), True, False, ("extended_hours",), id="extended-iso"),
        pytest.param(
            ("average_price", "extended_hours"),
            False,
            False,
            ("average_price", "extended_hours"),
            id="several-reasons-sorted",
        ),
    ],
)
def test_flags_decide_eligibility(
    conditions: tuple[str, ...], size_ok: bool, last_sale_ok: bool, reasons: tuple[str, ...]
) -> None:
    result = eligibility(price_e9("100"), 500, conditions, T)
    assert (result.size_eligible, result.last_sale_eligible, result.excluded_reasons) == (
        size_ok,
        last_sale_ok,
        reasons,
    )


@pytest.mark.parametrize(
    ("price", "size", "lot", "odd"),
    [
        pytest.param("250", 99, 100, True, id="250-99-odd"),
        pytest.param("250", 100, 100, False, id="250-100-round"),
        pytest.param("250.01", 39, 40, True, id="above-250-39-odd"),
        pytest.param("250.01", 40, 40, False, id="above-250-40-round"),
        pytest.param("1000.01", 9, 10, True, id="above-1000-9-odd"),
        pytest.param("1000.01", 10, 10, False, id="above-1000-10-round"),
        pytest.param("10000.01", 1, 1, False, id="above-10000-one-share-round"),
    ],
)
def test_size_below_the_price_tiered_round_lot_is_an_odd_lot(price: str, size: int, lot: int, odd: bool) -> None:
    result = eligibility(price_e9(price), size, (), T)
    assert result.round_lot_shares == lot
    assert result.size_eligible is not odd
    assert result.last_sale_eligible is not odd
    assert result.excluded_reasons == (("odd_lot",) if odd else ())


def test_odd_lot_by_size_merges_with_flags() -> None:
    result = eligibility(price_e9("100"), 10, ("average_price",), T)
    assert result.excluded_reasons == ("average_price", "odd_lot")
    assert result.priced_off_quote


def test_flat_round_lot_before_the_tiers() -> None:
    before = ROUND_LOT_TIERS_SINCE_NS - 1
    assert round_lot_at(price_e9("500"), before) == 100
    assert round_lot_at(price_e9("500"), ROUND_LOT_TIERS_SINCE_NS) == 40
    assert not eligibility(price_e9("500"), 40, (), before).size_eligible
    assert eligibility(price_e9("500"), 40, (), ROUND_LOT_TIERS_SINCE_NS).size_eligible


@pytest.mark.parametrize(
    ("conditions", "off_quote"),
    [
        pytest.param((), False, id="regular"),
        pytest.param(("odd_lot",), False, id="odd-lot-price-is-current"),
        pytest.param(("extended_hours",), False, id="extended-hours-price-is-current"),
        pytest.param(("average_price",), True, id="average-price"),
        pytest.param(("late",), True, id="late"),
        pytest.param(("prior_reference_price",), True, id="prior-reference"),
    ],
)
def test_priced_off_quote(conditions: tuple[str, ...], off_quote: bool) -> None:
    assert eligibility(price_e9("100"), 500, conditions, T).priced_off_quote is off_quote


@pytest.mark.parametrize(
    ("codes", "plan", "size_ok", "last_sale_ok"),
    [
        pytest.param("@", "utp", True, True, id="utp-regular"),
        pytest.param("@ W", "utp", False, False, id="utp-average-price"),
        pytest.param("B", "cts", False, False, id="cts-average-price"),
        pytest.param("B", "utp", True, True, id="utp-bunched-is-regular"),
        pytest.param("@ T", "cts", True, False, id="form-t"),
        pytest.param("Z", "cts", False, False, id="sold-out-of-sequence"),
        pytest.param("@ I", "utp", False, False, id="odd-lot-code"),
        pytest.param("4", "cts", False, False, id="derivatively-priced"),
        pytest.param("F", "utp", True, True, id="iso"),
    ],
)
def test_sale_condition_codes_through_the_connector_table(
    codes: str, plan: str, size_ok: bool, last_sale_ok: bool
) -> None:
    flags = equity_flags(codes, "cts" if plan == "cts" else "utp")
    result = eligibility(price_e9("100"), 500, flags, T)
    assert (result.size_eligible, result.last_sale_eligible) == (size_ok, last_sale_ok)


def test_flag_sets_nest() -> None:
    assert SIZE_EXCLUDING_FLAGS < LAST_SALE_EXCLUDING_FLAGS
    assert PRICED_OFF_QUOTE_FLAGS < SIZE_EXCLUDING_FLAGS
    assert "odd_lot" not in PRICED_OFF_QUOTE_FLAGS
