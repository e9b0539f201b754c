"""Rolling count-window baselines and z-scores (BEHAVIOR section 4).

The z-score of a value is computed against the window *before* the value is added; below `min_samples`
samples it is absent (None), never zero. The robust statistic in use is the median: the options engine reads a
contract's median packet size (its usual print, `RollingWindow.median`) for the structure detector's leg rule;
z-scores stay mean/std.

Values are integers (premiums in cents, sizes in contracts), so a window keeps the running sum of its values and of
their squares as Python ints: exact whatever leaves the window, and O(1) per value. The mean and the population
variance are exact rationals, each rounded once to a float (`S / n`, `(n Q - S^2) / n^2`); the standard deviation
is one more rounding (`sqrt`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median

_sqrt = math.sqrt


@dataclass(frozen=True, slots=True)
class Stats:
    """Summary of a window: mean/std and median, over `count` samples."""

    count: int
    mean: float
    std: float
    median: float


def mean_var(count: int, total: int, total_sq: int) -> tuple[float, float]:
    """Return the mean and the population variance of `count` integers from their sum and sum of squares.

    Both are exact rationals rounded once to the nearest float (Python's int / int is correctly rounded), so a
    constant window has variance exactly 0 and no rounding residue; 0, 0 when empty.
    """
    if count == 0:
        return 0.0, 0.0
    return total / count, (count * total_sq - total * total) / (count * count)


def z_score(value: int, count: int, total: int, total_sq: int, min_samples: int) -> float | None:
    """Return the z-score of `value` against a window of `count` integers with sum `total` and sum of squares
    `total_sq`, or None below `min_samples` or without spread (variance exactly 0). The kernel keeps the moments of
    its windows and hands them here, so both engines compute the same floats."""
    if count < min_samples:
        return None
    spread = count * total_sq - total * total  # n^2 x variance, exact
    if spread <= 0:
        return None
    return (value - total / count) / _sqrt(spread / (count * count))


class RollingWindow:
    """A count window of integers with exact running moments (sum and sum of squares)."""

    __slots__ = ("_size", "_sum", "_sum_sq", "_values")

    def __init__(self, size: int) -> None:
        self._values: deque[int] = deque()
        self._size = size
        self._sum = 0
        self._sum_sq = 0

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: int) -> None:
        """Add a value, evicting the oldest when the window is full."""
        values = self._values
        if len(values) == self._size:
            old = values.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        values.append(value)
        self._sum += value
        self._sum_sq += value * value

    def mean_std(self) -> tuple[float, float]:
        """Return the mean and the population standard deviation (0 when empty)."""
        mean, var = mean_var(len(self._values), self._sum, self._sum_sq)
        return mean, _sqrt(var)

    def stats(self) -> Stats:
        """Return the full summary, including the median (O(n log n))."""
        mean, std = self.mean_std()
        if not self._values:
            return Stats(0, 0.0, 0.0, 0.0)
        return Stats(len(self._values), mean, std, float(median(self._values)))

    def median(self, min_samples: int) -> float | None:
        """Return the median of the current window (before any new value), or None below `min_samples`.

        O(n log n): the engine asks for it only for packets of at least `structure_min_leg_contracts`.
        """
        values = self._values
        if len(values) < min_samples:
            return None
        return float(median(values))

    def z(self, value: int, min_samples: int) -> float | None:
        """Return the z-score of `value` against the current window, or None below `min_samples` or when the
        window has no spread (variance exactly 0)."""
        return z_score(value, len(self._values), self._sum, self._sum_sq, min_samples)

    def observe(self, value: int, min_samples: int) -> float | None:
        """Return the z-score of `value` against the window, then add it."""
        score = self.z(value, min_samples)
        self.add(value)
        return score
