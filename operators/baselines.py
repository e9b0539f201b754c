"""Rolling count-window baselines and z-scores (BEHAVIOR section 4).

The z-score of a value is computed against the window *before* the value is added; below `min_samples`
samples it is absent (None), never zero. The robust statistic in use is the median: the options engine reads a
contract's median packet size (its usual print, `RollingWindow.median`) for the structure detector's leg rule;
z-scores stay mean/std.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median

_fsum = math.fsum
_sqrt = math.sqrt


@dataclass(frozen=True, slots=True)
class Stats:
    """Summary of a window: mean/std and median, over `count` samples."""

    count: int
    mean: float
    std: float
    median: float


def mean_std(values: deque[float]) -> tuple[float, float]:
    """Return the mean and the population standard deviation of `values` (two-pass, `math.fsum`; 0 when empty).

    Exactly this arithmetic, operation for operation: z-scores reach the golden outputs, so a change in the
    last bit (for instance `d * d` instead of `d ** 2`, which the C library's `pow` rounds differently about
    once in a thousand values) is a change of behavior.
    """
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = _fsum(values) / n
    var = _fsum([(v - mean) ** 2 for v in values]) / n
    return mean, _sqrt(var)


class RollingWindow:
    """A count window of floats; statistics are recomputed from the stored values (two-pass, `math.fsum`).

    Running sums were tried and rejected: after a large value leaves the window its square swamps the rest,
    and a constant window keeps a rounding residue that turns into an enormous z-score. Windows are small
    (`rolling_window`, 50 by default), so an exact pass costs little, and it is only made when a z-score is
    asked for and the window has `min_samples` values.
    """

    __slots__ = ("_values",)

    def __init__(self, size: int) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: float) -> None:
        """Add a value, evicting the oldest when the window is full."""
        self._values.append(value)

    def mean_std(self) -> tuple[float, float]:
        """Return the mean and the population standard deviation (0 when empty)."""
        return mean_std(self._values)

    def stats(self) -> Stats:
        """Return the full summary, including the median (O(n log n))."""
        mean, std = self.mean_std()
        if not self._values:
            return Stats(0, 0.0, 0.0, 0.0)
        return Stats(len(self._values), mean, std, median(self._values))

    def median(self, min_samples: int) -> float | None:
        """Return the median of the current window (before any new value), or None below `min_samples`."""
        values = self._values
        if len(values) < min_samples:
            return None
        return median(values)

    def z(self, value: float, min_samples: int) -> float | None:
        """Return the z-score of `value` against the current window, or None below `min_samples`."""
        values = self._values
        if len(values) < min_samples:
            return None
        mean, std = mean_std(values)
        if std <= 1e-12 * max(1.0, abs(mean)):
            return None
        return (value - mean) / std

    def observe(self, value: float, min_samples: int) -> float | None:
        """Return the z-score of `value` against the window, then add it."""
        score = self.z(value, min_samples)
        self._values.append(value)
        return score


class KeyedBaselines:
    """Rolling windows per (scope key, metric)."""

    __slots__ = ("_min_samples", "_size", "_windows")

    def __init__(self, size: int, min_samples: int) -> None:
        self._size = size
        self._min_samples = min_samples
        self._windows: dict[tuple[str, str], RollingWindow] = {}

    def window(self, key: str, metric: str) -> RollingWindow:
        """Return the window of (key, metric), created empty on first use."""
        window = self._windows.get((key, metric))
        if window is None:
            window = self._windows[(key, metric)] = RollingWindow(self._size)
        return window

    def observe(self, key: str, metric: str, value: float) -> float | None:
        """Return the z-score of `value` for (key, metric) before adding it."""
        return self.window(key, metric).observe(value, self._min_samples)

    def add(self, key: str, metric: str, value: float) -> None:
        """Add `value` to (key, metric) without computing its z-score (`observe` when the score is not read)."""
        self.window(key, metric).add(value)

    def stats(self, key: str, metric: str) -> Stats | None:
        """Return the summary of one window, if it exists."""
        window = self._windows.get((key, metric))
        return window.stats() if window is not None else None
