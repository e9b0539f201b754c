"""Fixed-point units: prices at 1e-9 from strings/Decimal, cents rounding half-up, display formats."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.units import (
    PRICE_SCALE,
    e9_to_decimal,
    e9_to_float,
    format_price,
    format_usd,
    notional_cents,
    price_e9,
    price_e9_from_float,
    usd_to_cents,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1.25", 1_250_000_000, id="string"),
        pytest.param(Decimal("4.35"), 4_350_000_000, id="decimal"),
        pytest.param(5, 5_000_000_000, id="int"),
        pytest.param("0.000000001", 1, id="one-tick"),
        pytest.param("123456.123456789", 123_456_123_456_789, id="nine-digits"),
        pytest.param("-1.5", -1_500_000_000, id="negative"),
        pytest.param("1e-3", 1_000_000, id="exponent"),
        pytest.param("  2.5 ", 2_500_000_000, id="whitespace"),
        pytest.param("0", 0, id="zero"),
    ],
)
def test_price_e9_converts_exactly(value: str | Decimal | int, expected: int) -> None:
    assert price_e9(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1.0000000005", 1_000_000_000, id="half-to-even-down"),
        pytest.param("1.0000000015", 1_000_000_002, id="half-to-even-up"),
        pytest.param("1.00000000051", 1_000_000_001, id="above-half-up"),
        pytest.param("1.00000000049", 1_000_000_000, id="below-half-down"),
        pytest.param("-1.0000000005", -1_000_000_000, id="negative-half-to-even"),
        pytest.param("-1.0000000015", -1_000_000_002, id="negative-half-to-even-away"),
    ],
)
def test_price_e9_rounds_half_even(value: str, expected: int) -> None:
    assert price_e9(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("NaN", id="nan"),
        pytest.param("sNaN", id="signaling-nan"),
        pytest.param("inf", id="inf"),
        pytest.param("-Infinity", id="minus-inf"),
        pytest.param(Decimal("NaN"), id="decimal-nan"),
        pytest.param("abc", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("1,50", id="comma"),
        pytest.param("$1.50", id="dollar-sign"),
    ],
)
def test_price_e9_rejects_non_finite_and_garbage(value: str | Decimal) -> None:
    with pytest.raises(ValueError, match="price"):
        price_e9(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0.1 + 0.2, 300_000_000, id="0.1+0.2"),
        pytest.param(1.005, 1_005_000_000, id="1.005"),
        pytest.param(4.35, 4_350_000_000, id="4.35"),
        pytest.param(0.07, 70_000_000, id="0.07"),
        pytest.param(1.1, 1_100_000_000, id="1.1"),
        pytest.param(2.675, 2_675_000_000, id="2.675"),
        pytest.param(5.0, 5_000_000_000, id="whole"),
        pytest.param(1e-9, 1, id="one-tick"),
        pytest.param(123456.789, 123_456_789_000_000, id="large"),
    ],
)
def test_price_e9_from_float_uses_shortest_repr(value: float, expected: int) -> None:
    assert price_e9_from_float(value) == expected


def test_price_e9_from_float_avoids_the_multiply_trap() -> None:
    # The bug the module exists to avoid: int(value * 1e9) truncates 1.005 to 1_004_999_999.
    assert int(1.005 * 1e9) == 1_004_999_999
    assert price_e9_from_float(1.005) == 1_005_000_000


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "minus-inf"])
def test_price_e9_from_float_rejects_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match="price"):
        price_e9_from_float(value)


def test_e9_to_decimal_and_float() -> None:
    assert e9_to_decimal(1_234_500_000) == Decimal("1.2345")
    assert e9_to_decimal(1) == Decimal("0.000000001")
    assert e9_to_float(1_250_000_000) == 1.25


@pytest.mark.parametrize(
    ("price", "size", "multiplier", "expected"),
    [
        pytest.param("1.10", 200, 100, 2_200_000, id="premium-200-lots"),
        pytest.param("0.005", 1, 1, 1, id="half-cent-rounds-up"),
        pytest.param("0.0049", 1, 1, 0, id="under-half-cent-rounds-down"),
        pytest.param("1.005", 1, 1, 101, id="1.005-rounds-up"),
        pytest.param("1.015", 1, 1, 102, id="1.015-rounds-up-not-even"),
        pytest.param("1.025", 1, 1, 103, id="1.025-rounds-up-not-even"),
        pytest.param("-1.005", 1, 1, -101, id="negative-half-away-from-zero"),
        pytest.param("-0.0049", 1, 1, 0, id="negative-under-half"),
        pytest.param("-0.005", 1, 1, -1, id="negative-half-cent"),
        pytest.param("0.000000001", 1, 1, 0, id="one-tick"),
        pytest.param("2500.00", 100, 100, 2_500_000_000, id="25m-block"),
    ],
)
def test_notional_cents_rounds_half_up(price: str, size: int, multiplier: int, expected: int) -> None:
    assert notional_cents(price_e9(price), size, multiplier) == expected


def test_notional_cents_default_multiplier_is_one() -> None:
    assert notional_cents(price_e9("3.33"), 3) == 999


@pytest.mark.parametrize(
    ("usd", "expected"),
    [
        pytest.param(40_000, 4_000_000, id="int"),
        pytest.param(0.1, 10, id="float-tenth"),
        pytest.param(1.005, 101, id="float-half-up"),
        pytest.param("2.675", 268, id="string-half-up"),
        pytest.param(Decimal("0.125"), 13, id="decimal-half-up"),
        pytest.param("-0.125", -13, id="negative-half-away"),
        pytest.param(250_000, 25_000_000, id="block-threshold"),
    ],
)
def test_usd_to_cents(usd: float | int | str | Decimal, expected: int) -> None:
    assert usd_to_cents(usd) == expected


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        pytest.param(0, "$0", id="zero"),
        pytest.param(95_000, "$950", id="hundreds"),
        pytest.param(99_900, "$999", id="just-under-1k"),
        pytest.param(100_000, "$1.0k", id="1k"),
        pytest.param(4_000_000, "$40.0k", id="40k"),
        pytest.param(6_600_000, "$66.0k", id="66k"),
        pytest.param(123_456, "$1.2k", id="1.2k"),
        pytest.param(100_000_000, "$1.00M", id="1m"),
        pytest.param(125_000_000, "$1.25M", id="1.25m"),
        pytest.param(-4_000_000, "-$40.0k", id="negative-k"),
        pytest.param(-125_000_000, "-$1.25M", id="negative-m"),
        pytest.param(-95_000, "-$950", id="negative-hundreds"),
    ],
)
def test_format_usd(cents: int, expected: str) -> None:
    assert format_usd(cents) == expected


def test_format_usd_rounds_into_the_next_unit() -> None:
    assert format_usd(99_999_999) == "$1.00M"


@pytest.mark.parametrize(
    ("value_e9", "expected"),
    [
        pytest.param(1_500_000_000, "1.50", id="one-decimal-padded"),
        pytest.param(5_000_000_000, "5.00", id="whole"),
        pytest.param(10_000_000_000, "10.00", id="whole-with-zero"),
        pytest.param(580_000_000_000, "580.00", id="strike"),
        pytest.param(1_234_500_000, "1.2345", id="four-decimals"),
        pytest.param(1, "0.000000001", id="one-tick"),
        pytest.param(0, "0.00", id="zero"),
        pytest.param(-1_500_000_000, "-1.50", id="negative"),
        pytest.param(2_500_000_000, "2.50", id="half-strike"),
    ],
)
def test_format_price(value_e9: int, expected: str) -> None:
    assert format_price(value_e9) == expected


@pytest.mark.parametrize(
    ("value_e9", "max_decimals", "expected"),
    [
        pytest.param(1_106_666_667, 4, "1.1067", id="vwap-rounded"),
        pytest.param(1_000_050_000, 4, "1.00", id="half-to-even-down"),
        pytest.param(1_000_150_000, 4, "1.0002", id="half-to-even-up"),
        pytest.param(1_234_500_000, 2, "1.23", id="two-decimals-half-even"),
        pytest.param(1_500_000_000, 4, "1.50", id="keeps-two-decimals"),
        pytest.param(1_106_666_667, None, "1.106666667", id="exact-without-limit"),
    ],
)
def test_format_price_rounded(value_e9: int, max_decimals: int | None, expected: str) -> None:
    assert format_price(value_e9, max_decimals) == expected


decimals_with_9_places = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=9,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=200, deadline=None)
@given(decimals_with_9_places)
def test_price_round_trips_through_fixed_point(value: Decimal) -> None:
    assert e9_to_decimal(price_e9(value)) == value
    assert price_e9(str(value)) == price_e9(value)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fixed_point_round_trips_through_decimal(value_e9: int) -> None:
    assert price_e9(e9_to_decimal(value_e9)) == value_e9
    assert price_e9(format_price(value_e9)) == value_e9


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**7).map(lambda n: n / 100))
def test_float_cents_prices_convert_exactly(value: float) -> None:
    # Every float that prints as a cents price must land on the exact tick, never one below it.
    assert price_e9_from_float(value) == price_e9(repr(value))
    assert price_e9_from_float(value) % (PRICE_SCALE // 100) == 0


def _decimal_format_price(value_e9: int, max_decimals: int | None) -> str:
    """The decimal formatting `format_price` replaced: the reference its integer arithmetic must equal."""
    dec = e9_to_decimal(value_e9)
    if max_decimals is not None:
        dec = dec.quantize(Decimal(1).scaleb(-max_decimals), rounding=ROUND_HALF_EVEN)
    text = f"{dec.normalize():f}"
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


@settings(max_examples=2_000, deadline=None)
@given(
    st.integers(min_value=-(10**15), max_value=10**15) | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none() | st.integers(min_value=0, max_value=12),
)
def test_format_price_equals_decimal_formatting(value_e9: int, max_decimals: int | None) -> None:
    assert format_price(value_e9, max_decimals) == _decimal_format_price(value_e9, max_decimals)
