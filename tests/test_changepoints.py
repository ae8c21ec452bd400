"""The fits and change points against references written here: numpy's polyfit, a brute-force scan over every split,
and scipy's chi-square survival function."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtools.analyses import changepoints as cp


def _rss_polyfit(x, y) -> float:
    """Reference: residual sum of squares of np.polyfit's line (the mean where x does not vary)."""
    if x is None or np.ptp(x) == 0:
        return float(((y - y.mean()) ** 2).sum())
    slope, intercept = np.polyfit(x, y, 1)
    return float(((y - intercept - slope * x) ** 2).sum())


def _best_split_brute(x, y, lo, hi, m):
    """Reference: LR = n ln(RSS one / RSS two) at every k, by refitting both sides."""
    best = None
    for k in range(lo + m, hi - m + 1):
        one = _rss_polyfit(None if x is None else x[lo:hi], y[lo:hi])
        two = _rss_polyfit(None if x is None else x[lo:k], y[lo:k]) + _rss_polyfit(
            None if x is None else x[k:hi], y[k:hi]
        )
        lr = (hi - lo) * math.log(one / two)
        if best is None or lr > best[1]:
            best = (k, lr)
    return best


def test_line_matches_polyfit():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 200)
    y = 3 + 0.5 * x + rng.normal(0, 1, 200)
    slope, intercept = np.polyfit(x, y, 1)
    got = cp.line(x, y)
    assert got.slope == pytest.approx(slope, rel=1e-12)
    assert got.intercept == pytest.approx(intercept, rel=1e-12)
    assert got.rss == pytest.approx(_rss_polyfit(x, y), rel=1e-9)


def test_line_without_x_or_with_constant_x_is_the_mean():
    y = np.array([1.0, 2.0, 6.0])
    assert cp.line(None, y).intercept == 3.0 and cp.line(None, y).slope == 0.0
    assert cp.line(np.full(3, 7.0), y).intercept == 3.0 and cp.line(np.full(3, 7.0), y).rss == 14.0


def test_the_per_unit_line_is_least_squares_of_seconds_weighted_by_one_over_volume_squared():
    """The runs module's claim: per-unit cost on 1/volume == seconds on volume with weights 1/volume^2."""
    rng = np.random.default_rng(2)
    v = rng.uniform(1e5, 5e6, 300)
    d = (2.0 + 3e-6 * v) * (1 + rng.normal(0, 0.05, 300))
    got = cp.line(1 / v, d / v)
    cost, overhead = np.polyfit(v, d, 1, w=1 / v)  # polyfit squares w: weights 1/v^2
    assert got.intercept == pytest.approx(cost, rel=1e-9)
    assert got.slope == pytest.approx(overhead, rel=1e-9)


@pytest.mark.parametrize("with_x", [True, False])
def test_segment_rss_from_prefix_sums_equals_refitting(with_x):
    rng = np.random.default_rng(3)
    n = 120
    x = rng.uniform(1, 5, n) if with_x else None
    y = rng.normal(10, 2, n) + (np.r_[np.zeros(60), np.full(60, 4.0)])
    series = cp.Series(x, y)
    scale = y.std() ** 2  # Series works on standardised y
    for lo, hi in [(0, n), (0, 60), (17, 93), (60, 120), (5, 9)]:
        want = _rss_polyfit(None if x is None else x[lo:hi], y[lo:hi])
        assert float(series.rss(lo, hi)) * scale == pytest.approx(want, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("with_x", [True, False])
def test_best_split_equals_a_brute_force_scan(with_x):
    rng = np.random.default_rng(4)
    n = 80
    x = rng.uniform(1, 3, n) if with_x else None
    y = 5 + (2 * x if with_x else 0) + rng.normal(0, 1, n)
    y[50:] += 1.5
    split = cp.Series(x, y).best_split(0, n, 5)
    k, lr = _best_split_brute(x, y, 0, n, 5)
    assert split.k == k
    assert split.lr == pytest.approx(lr, rel=1e-7)
    candidates = n - 2 * 5 + 1
    assert split.p_adjusted == pytest.approx(min(1.0, cp.p_value(lr, 2 if with_x else 1) * candidates))


@pytest.mark.parametrize("q", [1, 2])
def test_p_value_is_the_chi_square_tail(q):
    stats = pytest.importorskip("scipy.stats")
    for lr in (0.5, 3.0, 12.0, 40.0):
        assert cp.p_value(lr, q) == pytest.approx(stats.chi2.sf(lr, q), rel=1e-9)


def test_binary_segmentation_finds_both_steps_and_nothing_else():
    rng = np.random.default_rng(5)
    y = np.r_[rng.normal(10, 1, 100), rng.normal(14, 1, 80), rng.normal(9, 1, 120)]
    found = cp.binary_segmentation(None, y, 5, 0.001)
    assert [s.k for s in found] == [100, 180]


def test_binary_segmentation_finds_nothing_in_noise():
    for seed in range(20):
        y = np.random.default_rng(seed).normal(0, 1, 500)
        assert cp.binary_segmentation(None, y, 5, 0.001) == [], seed


def test_accept_can_veto_a_significant_split():
    y = np.r_[np.full(50, 10.0), np.full(50, 10.5)] + np.random.default_rng(6).normal(0, 0.01, 100)
    assert [s.k for s in cp.binary_segmentation(None, y, 5, 0.001)] == [50]
    assert cp.binary_segmentation(None, y, 5, 0.001, accept=lambda lo, split, hi: False) == []
