"""Least-squares lines and change points in a series, exact and checkable with numpy alone.

- Line: ordinary least squares of y on [1, x]: y = intercept + slope * x, minimising the residual sum of squares
  (RSS). Without x, or where x does not vary (its variance in the segment below 1e-9 of its variance over the whole
  series), the model is the mean (slope 0).
- Split statistic: for a segment [lo, hi) of n points and a split at k (left [lo, k), right [k, hi)), the likelihood
  ratio of two lines against one under Gaussian errors of one variance: LR = n * ln(RSS_one / (RSS_left +
  RSS_right)). With q parameters per line (2 with x, 1 without), LR is chi-square with q degrees of freedom for one
  given k: p = exp(-LR / 2) for q = 2, p = erfc(sqrt(LR / 2)) for q = 1.
- Best split: the k with the largest LR among those leaving at least ``min_size`` points on each side; its p-value
  is multiplied by the number of candidate k (Bonferroni) and the split is significant when that is below
  ``alpha``.
- Binary segmentation: split the series at its best split when significant and ``accept(lo, split, hi)`` agrees
  (an effect-size check of the caller), then search each side the same way; the change points are the splits
  accepted, in order of k. Every RSS comes from prefix sums, so one search is O(n).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# x "does not vary" in a segment when its variance there is below this share of its variance over the series
DEGENERATE = 1e-9


@dataclass(frozen=True)
class Line:
    """y = intercept + slope * x over ``n`` points, with its residual sum of squares."""

    intercept: float
    slope: float
    n: int
    rss: float

    def at(self, x):
        return self.intercept + self.slope * x


def line(x: np.ndarray | None, y: np.ndarray, x_variance: float | None = None) -> Line:
    """The least-squares line of y on x; the mean when x is None or its variance is at most DEGENERATE times
    ``x_variance`` (the whole series' variance of x; default: this segment's mean square of x)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if x is not None and n >= 2:
        x = np.asarray(x, dtype=float)
        dx = x - x.mean()
        sxx = float(dx @ dx)
        reference = float(x @ x) / n if x_variance is None else x_variance
        if sxx > DEGENERATE * n * reference:
            slope = float(dx @ (y - y.mean())) / sxx
            intercept = float(y.mean() - slope * x.mean())
            resid = y - intercept - slope * x
            return Line(intercept, slope, n, float(resid @ resid))
    mean = float(y.mean()) if n else float("nan")
    resid = y - mean
    return Line(mean, 0.0, n, float(resid @ resid))


def p_value(lr: float, q: int) -> float:
    """P(chi-square with q degrees of freedom > lr), for q = 1 or 2."""
    if lr <= 0:
        return 1.0
    if q == 2:
        return math.exp(-lr / 2)
    if q == 1:
        return math.erfc(math.sqrt(lr / 2))
    raise ValueError(f"q must be 1 or 2, found {q}")


@dataclass(frozen=True)
class Split:
    k: int
    lr: float
    p_adjusted: float


class Series:
    """Prefix sums of a series, giving the RSS of a line (or mean) over any segment in O(1)."""

    def __init__(self, x: np.ndarray | None, y: np.ndarray):
        y = np.asarray(y, dtype=float)
        self.n = len(y)
        self.q = 2 if x is not None else 1
        ys = (y - y.mean()) / (y.std() or 1.0)  # standardised: the prefix sums stay of order n
        xs = np.zeros(self.n)
        if x is not None:
            x = np.asarray(x, dtype=float)
            spread = x.std()
            if spread == 0:
                self.q = 1
            else:
                xs = (x - x.mean()) / spread
        zero = np.zeros(1)
        self._s = {
            name: np.concatenate([zero, np.cumsum(v)])
            for name, v in (
                ("1", np.ones(self.n)),
                ("x", xs),
                ("y", ys),
                ("xx", xs * xs),
                ("xy", xs * ys),
                ("yy", ys * ys),
            )
        }

    def rss(self, lo, hi):
        """RSS of the best line (q = 2) or mean (q = 1) over [lo, hi); lo and hi may be arrays."""
        s = {k: v[hi] - v[lo] for k, v in self._s.items()}
        n = s["1"]
        with np.errstate(invalid="ignore", divide="ignore"):
            syy = s["yy"] - s["y"] ** 2 / n
            if self.q == 1:
                return np.maximum(syy, 0.0)
            sxx = s["xx"] - s["x"] ** 2 / n
            sxy = s["xy"] - s["x"] * s["y"] / n
            fitted = np.where(sxx > DEGENERATE * n, sxy**2 / np.where(sxx > 0, sxx, 1.0), 0.0)
        return np.maximum(syy - fitted, 0.0)

    def best_split(self, lo: int, hi: int, min_size: int) -> Split | None:
        """The split of [lo, hi) with the largest likelihood ratio, or None when no k leaves min_size a side."""
        ks = np.arange(lo + min_size, hi - min_size + 1)
        if len(ks) == 0:
            return None
        one = float(self.rss(lo, hi))
        two = self.rss(np.full(len(ks), lo), ks) + self.rss(ks, np.full(len(ks), hi))
        n = hi - lo
        if one <= 0:
            return Split(int(ks[0]), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            lr = n * np.log(one / np.maximum(two, one * 1e-300))
        best = int(np.argmax(lr))
        value = float(lr[best])
        return Split(int(ks[best]), value, min(1.0, p_value(value, self.q) * len(ks)))


def binary_segmentation(
    x: np.ndarray | None,
    y: np.ndarray,
    min_size: int,
    alpha: float,
    accept: Callable[[int, Split, int], bool] | None = None,
) -> list[Split]:
    """The change points of y (``Split.k``: where a new segment starts), by binary segmentation (module docstring)."""
    series = Series(x, y)
    found: list[Split] = []
    todo = [(0, series.n)]
    while todo:
        lo, hi = todo.pop()
        split = series.best_split(lo, hi, min_size)
        if split is None or split.p_adjusted >= alpha:
            continue
        if accept is not None and not accept(lo, split, hi):
            continue
        found.append(split)
        todo += [(lo, split.k), (split.k, hi)]
    return sorted(found, key=lambda s: s.k)
