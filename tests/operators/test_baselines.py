"""Rolling count-window baselines and z-scores (BEHAVIOR section 4)."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.baselines import KeyedBaselines, RollingWindow, Stats


def _window(values: list[float], size: int = 50) -> RollingWindow:
    window = RollingWindow(size)
    for v in values:
        window.add(v)
    return window


def test_z_is_computed_before_the_value_is_added() -> None:
    window = _window([1.0, 2.0, 3.0, 4.0])  # mean 2.5, population std sqrt(1.25)
    z = window.observe(10.0, min_samples=4)
    assert z == pytest.approx((10.0 - 2.5) / 1.25**0.5)
    assert len(window) == 5
    assert window.mean_std()[0] == pytest.approx(4.0), "the value is in the window afterwards"


@pytest.mark.parametrize(
    ("samples", "min_samples", "present"),
    [
        pytest.param(11, 12, False, id="one-below-min"),
        pytest.param(12, 12, True, id="at-min"),
        pytest.param(0, 2, False, id="empty"),
    ],
)
def test_z_is_absent_below_min_samples(samples: int, min_samples: int, present: bool) -> None:
    window = _window([float(i % 3) for i in range(samples)])
    z = window.z(5.0, min_samples)
    assert (z is not None) is present
    if not present:
        assert z is None, "absent, not zero"


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([7.0] * 12, id="constant"),
        pytest.param([0.0] * 12, id="zeros"),
        pytest.param([1e9] * 12, id="large-constant"),
    ],
)
def test_zero_variance_gives_no_z(values: list[float]) -> None:
    window = _window(values)
    assert window.z(values[0] + 1, min_samples=12) is None
    assert window.observe(values[0] + 1, min_samples=12) is None


def test_window_evicts_the_oldest() -> None:
    window = _window([100.0, 1.0, 2.0, 3.0], size=3)
    assert len(window) == 3
    assert window.stats() == Stats(3, pytest.approx(2.0), pytest.approx((2 / 3) ** 0.5), 2.0)  # type: ignore[arg-type]


def test_stats_of_an_empty_window() -> None:
    assert RollingWindow(5).stats() == Stats(0, 0.0, 0.0, 0.0)
    assert RollingWindow(5).mean_std() == (0.0, 0.0)


@pytest.mark.parametrize(
    ("values", "min_samples", "expected"),
    [
        pytest.param([1.0, 2.0, 3.0, 4.0, 100.0], 5, 3.0, id="odd-count-outlier-ignored"),
        pytest.param([1.0, 2.0, 3.0, 100.0], 4, 2.5, id="even-count"),
        pytest.param([1.0, 2.0, 3.0, 100.0], 5, None, id="absent-below-min-samples"),
        pytest.param([], 1, None, id="empty"),
    ],
)
def test_median_is_absent_below_min_samples(values: list[float], min_samples: int, expected: float | None) -> None:
    assert _window(values).median(min_samples) == expected


def test_stats_median() -> None:
    stats = _window([1.0, 2.0, 3.0, 4.0, 100.0]).stats()
    assert (stats.count, stats.median) == (5, 3.0)
    assert stats.mean == pytest.approx(22.0)
    assert stats.std == pytest.approx(statistics.pstdev([1.0, 2.0, 3.0, 4.0, 100.0]))


def test_keyed_baselines_are_independent_per_key_and_metric() -> None:
    baselines = KeyedBaselines(size=50, min_samples=3)
    for v in (1.0, 2.0, 3.0):
        assert baselines.observe("SPY", "premium", v) is None
    baselines.observe("SPY", "size", 1_000.0)
    baselines.observe("QQQ", "premium", 5.0)
    assert baselines.observe("SPY", "premium", 4.0) == pytest.approx((4.0 - 2.0) / (2 / 3) ** 0.5)
    spy = baselines.stats("SPY", "premium")
    assert spy is not None
    assert spy.count == 4
    size = baselines.stats("SPY", "size")
    assert size is not None
    assert size.count == 1
    assert baselines.stats("SPY", "spread") is None


def test_keyed_baselines_keep_their_window_size() -> None:
    baselines = KeyedBaselines(size=3, min_samples=2)
    for v in (1e6, 1.0, 2.0, 3.0):
        baselines.observe("SPY", "premium", v)
    stats = baselines.stats("SPY", "premium")
    assert stats is not None
    assert (stats.count, stats.median) == (3, 2.0)


def test_std_after_a_large_value_is_evicted() -> None:
    window = _window([1e9, 1.0, 2.0, 3.0], size=3)
    assert window.mean_std()[1] == pytest.approx(statistics.pstdev([1.0, 2.0, 3.0]))
    assert window.z(4.0, min_samples=3) is not None


@pytest.mark.parametrize(
    ("value", "count"),
    [
        pytest.param(0.1, 12, id="tenth"),
        pytest.param(999_999.7, 12, id="fractional-level"),
        pytest.param(293_811_406.0, 50, id="whole-cents-2.9m"),
    ],
)
def test_constant_window_has_no_z(value: float, count: int) -> None:
    window = _window([value] * count)
    assert window.z(value + 1, min_samples=12) is None


# ---------------------------------------------------------------------------------------- property

# Premium-like values: whole cents up to $10M, and sizes; the window's own spread is not tiny against its level.
values = st.lists(st.integers(min_value=0, max_value=10**9).map(float), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(values, st.integers(min_value=2, max_value=60))
def test_incremental_stats_equal_batch_recomputation(data: list[float], size: int) -> None:
    window = RollingWindow(size)
    for i, value in enumerate(data):
        window.add(value)
        tail = data[max(0, i + 1 - size) : i + 1]
        stats = window.stats()
        # Running sums carry rounding of order ulp(largest value seen); compare with that tolerance.
        tolerance = 1e-6 * max(1.0, max(data[: i + 1]))
        assert stats.count == len(tail) == len(window)
        assert stats.mean == pytest.approx(statistics.fmean(tail), rel=1e-9, abs=tolerance)
        assert stats.std == pytest.approx(statistics.pstdev(tail), rel=1e-6, abs=tolerance)
        assert stats.median == statistics.median(tail)
        assert window.median(min_samples=1) == statistics.median(tail)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=12, max_size=80),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_observe_z_equals_batch_z_before_insert(data: list[float], value: float) -> None:
    size = 50
    window = _window(data, size)
    tail = data[-size:]
    batch_std = statistics.pstdev(tail)
    z = window.observe(value, min_samples=12)
    if batch_std > 1e-3:
        assert z == pytest.approx((value - statistics.fmean(tail)) / batch_std, rel=1e-4, abs=1e-6)
    elif batch_std == 0:
        assert z is None
    assert len(window) == min(size, len(data) + 1)


def _two_pass_reference(values: list[float]) -> tuple[float, float]:
    """The arithmetic the z-scores have always used, operation for operation (a generator into `math.fsum`)."""
    import math

    n = len(values)
    mean = math.fsum(values) / n
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / n)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=10**11).map(float),
            st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
        ),
        min_size=1,
        max_size=120,
    )
)
def test_mean_std_is_bit_identical_to_the_two_pass_reference(data: list[float]) -> None:
    window = _window(data)
    # Exact equality, not approx: z-scores reach the golden outputs.
    assert window.mean_std() == _two_pass_reference(data[-50:])


def test_add_without_z_equals_observe() -> None:
    observed = KeyedBaselines(size=5, min_samples=2)
    added = KeyedBaselines(size=5, min_samples=2)
    for v in (1.0, 5.0, 2.0, 8.0, 3.0, 9.0):
        observed.observe("SPY", "premium", v)
        added.add("SPY", "premium", v)
    assert observed.stats("SPY", "premium") == added.stats("SPY", "premium")
    assert observed.observe("SPY", "premium", 4.0) == added.observe("SPY", "premium", 4.0)
