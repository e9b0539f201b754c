"""Rolling count-window baselines and z-scores (BEHAVIOR section 4)."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.baselines import RollingWindow, Stats


def _window(values: list[int], size: int = 50) -> RollingWindow:
    window = RollingWindow(size)
    for v in values:
        window.add(v)
    return window


def test_z_is_computed_before_the_value_is_added() -> None:
    window = _window([1, 2, 3, 4])  # mean 2.5, population std sqrt(1.25)
    z = window.observe(10, min_samples=4)
    assert z == pytest.approx((10 - 2.5) / 1.25**0.5)
    assert len(window) == 5
    assert window.mean_std()[0] == pytest.approx(4), "the value is in the window afterwards"


@pytest.mark.parametrize(
    ("samples", "min_samples", "present"),
    [
        pytest.param(11, 12, False, id="one-below-min"),
        pytest.param(12, 12, True, id="at-min"),
        pytest.param(0, 2, False, id="empty"),
    ],
)
def test_z_is_absent_below_min_samples(samples: int, min_samples: int, present: bool) -> None:
    window = _window([i % 3 for i in range(samples)])
    z = window.z(5, min_samples)
    assert (z is not None) is present
    if not present:
        assert z is None, "absent, not zero"


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([7] * 12, id="constant"),
        pytest.param([0] * 12, id="zeros"),
        pytest.param([10**9] * 12, id="large-constant"),
    ],
)
def test_zero_variance_gives_no_z(values: list[int]) -> None:
    window = _window(values)
    assert window.z(values[0] + 1, min_samples=12) is None
    assert window.observe(values[0] + 1, min_samples=12) is None


def test_window_evicts_the_oldest() -> None:
    window = _window([100, 1, 2, 3], size=3)
    assert len(window) == 3
    assert window.stats() == Stats(3, pytest.approx(2), pytest.approx((2 / 3) ** 0.5), 2)  # type: ignore[arg-type]


def test_stats_of_an_empty_window() -> None:
    assert RollingWindow(5).stats() == Stats(0, 0, 0, 0)
    assert RollingWindow(5).mean_std() == (0, 0)


@pytest.mark.parametrize(
    ("values", "min_samples", "expected"),
    [
        pytest.param([1, 2, 3, 4, 100], 5, 3, id="odd-count-outlier-ignored"),
        pytest.param([1, 2, 3, 100], 4, 2.5, id="even-count"),
        pytest.param([1, 2, 3, 100], 5, None, id="absent-below-min-samples"),
        pytest.param([], 1, None, id="empty"),
    ],
)
def test_median_is_absent_below_min_samples(values: list[int], min_samples: int, expected: float | None) -> None:
    assert _window(values).median(min_samples) == expected


def test_stats_median() -> None:
    stats = _window([1, 2, 3, 4, 100]).stats()
    assert (stats.count, stats.median) == (5, 3)
    assert stats.mean == pytest.approx(22)
    assert stats.std == pytest.approx(statistics.pstdev([1, 2, 3, 4, 100]))


def test_std_after_a_large_value_is_evicted() -> None:
    # Exact moments: the square of a large value that left the window leaves no residue.
    window = _window([10**12, 1, 2, 3], size=3)
    assert window.mean_std() == (2.0, math.sqrt(2 / 3))
    assert window.z(4, min_samples=3) == (4 - 2) / math.sqrt(2 / 3)


@pytest.mark.parametrize(
    ("value", "count"),
    [
        pytest.param(1, 12, id="one"),
        pytest.param(99_999_997, 12, id="cents-1m"),
        pytest.param(293_811_406, 50, id="whole-cents-2.9m"),
        pytest.param(10**15, 50, id="beyond-float-integers-squared"),
    ],
)
def test_constant_window_has_no_z(value: int, count: int) -> None:
    window = _window([value] * count)
    assert window.z(value + 1, min_samples=12) is None


# ---------------------------------------------------------------------------------------- property


def _exact(tail: list[int]) -> tuple[float, float]:
    """Mean and population variance of `tail` as exact rationals, each rounded once to a float."""
    n = len(tail)
    mean = Fraction(sum(tail), n)
    return float(mean), float(sum((Fraction(v) - mean) ** 2 for v in tail) / n)


# Premium-like values: whole cents up to $10M, and sizes.
values = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(values, st.integers(min_value=2, max_value=60))
def test_incremental_stats_equal_exact_batch_recomputation(data: list[int], size: int) -> None:
    window = RollingWindow(size)
    for i, value in enumerate(data):
        window.add(value)
        tail = data[max(0, i + 1 - size) : i + 1]
        stats = window.stats()
        mean, var = _exact(tail)
        assert stats.count == len(tail) == len(window)
        assert (stats.mean, stats.std) == (mean, math.sqrt(var)), "exact, not approximately equal"
        assert stats.std == pytest.approx(statistics.pstdev(tail), rel=1e-9, abs=1e-9)
        assert stats.median == statistics.median(tail)
        assert window.median(min_samples=1) == statistics.median(tail)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=12, max_size=80),
    st.integers(min_value=-(10**12), max_value=10**12),
)
def test_observe_z_equals_exact_batch_z_before_insert(data: list[int], value: int) -> None:
    size = 50
    window = _window(data, size)
    mean, var = _exact(data[-size:])
    z = window.observe(value, min_samples=12)
    if var == 0:
        assert z is None
    else:
        assert z == (value - mean) / math.sqrt(var)
    assert len(window) == min(size, len(data) + 1)


def test_add_without_z_equals_observe() -> None:
    observed = RollingWindow(5)
    added = RollingWindow(5)
    for v in (1, 5, 2, 8, 3, 9):
        observed.observe(v, min_samples=2)
        added.add(v)
    assert observed.stats() == added.stats()
    assert observed.observe(4, min_samples=2) == added.observe(4, min_samples=2)


def test_window_keeps_its_size() -> None:
    window = _window([10**6, 1, 2, 3], size=3)
    assert (window.stats().count, window.stats().median) == (3, 2.0)
