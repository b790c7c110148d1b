"""Bootstrap intervals over faces and the paired test, against scipy's own computation on the same arrays."""
import time

import numpy as np
import pytest
from scipy import stats

from mrr_plugin.metrics.uncertainty import (FaceBootstrap, difference_of_means, equivalence, resample_counts,
                                            signed_rank_p)


def face_scores(n, seed=0):
    """Two methods' per-face PSNRs of the same faces: skewed spread over faces, B slightly worse than A."""
    rng = np.random.default_rng(seed)
    a = 24 + rng.gamma(2.0, 1.0, n)
    return a, a - 0.15 + rng.normal(0, 0.4, n)


@pytest.mark.parametrize('method', ['bca', 'percentile'])
@pytest.mark.parametrize('n', [12, 40, 333])
def test_intervals_are_scipys_bootstrap_on_the_same_draws(method, n):
    a, b = face_scores(n, seed=n)
    ours = FaceBootstrap(n, n_resamples=2000, method=method, seed=7)
    theirs = stats.bootstrap((a,), np.mean, n_resamples=2000, method=method, rng=np.random.default_rng(7))
    interval = ours.interval(a)
    assert interval.value == pytest.approx(a.mean(), rel=1e-12)
    assert (interval.low, interval.high) == pytest.approx(tuple(theirs.confidence_interval), rel=1e-9, abs=1e-9)
    paired = stats.bootstrap((a, b), lambda x, y, axis=-1: np.mean(x - y, axis=axis), paired=True, n_resamples=2000,
                             method=method, rng=np.random.default_rng(7))
    difference = ours.difference(a, b)
    assert (difference.low, difference.high) == pytest.approx(tuple(paired.confidence_interval), rel=1e-9, abs=1e-9)
    assert difference.low < difference.value < difference.high


def test_level_and_draws_change_the_interval_as_they_should():
    a, _ = face_scores(200)
    wide = FaceBootstrap(200, method='percentile', level=0.99).interval(a)
    narrow = FaceBootstrap(200, method='percentile', level=0.8).interval(a)
    assert wide.low < narrow.low < narrow.high < wide.high
    counts = resample_counts(200, 50, seed=1)
    assert counts.shape == (50, 200) and (counts.sum(1) == 200).all() and counts.max() >= 2
    assert FaceBootstrap(200, seed=1).interval(a) != FaceBootstrap(200, seed=2).interval(a)
    assert FaceBootstrap(200, seed=1).interval(a) == FaceBootstrap(200, seed=1).interval(a)


def test_a_difference_is_told_from_noise():
    rng = np.random.default_rng(3)
    a = 25 + rng.normal(0, 2, 300)
    real = FaceBootstrap(300).difference(a + 0.3 + rng.normal(0, 0.3, 300), a)  # +0.3 dB on every face, small noise
    assert real.excludes_zero() and 0.2 < real.value < 0.4
    noise = FaceBootstrap(300).difference(a + rng.normal(0, 0.3, 300), a)  # no effect
    assert not noise.excludes_zero() and noise.low < 0 < noise.high


def test_signed_rank_p_is_scipys_wilcoxon():
    for n in (10, 40, 300):  # exact and normal approximation
        a, b = face_scores(n, seed=n)
        assert signed_rank_p(a, b) == pytest.approx(stats.wilcoxon(a - b).pvalue, rel=1e-12)
    tied = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 6.0])
    assert signed_rank_p(tied, np.zeros(8) + 2.0) == pytest.approx(stats.wilcoxon(tied - 2.0).pvalue)
    assert signed_rank_p(np.ones(5), np.ones(5)) == 1.0


def test_no_spread_and_wrong_shapes():
    constant = FaceBootstrap(30).interval(np.full(30, 27.5))
    assert (constant.value, constant.low, constant.high) == (27.5, 27.5, 27.5)
    with pytest.raises(ValueError, match='one value per face'):
        FaceBootstrap(30).interval(np.ones(29))
    with pytest.raises(ValueError, match='interval method'):
        FaceBootstrap(30, method='basic')
    with pytest.raises(ValueError, match='at least 2 faces'):
        FaceBootstrap(1)


def test_a_thousand_faces_take_seconds_not_minutes():
    """The issue's budget: intervals add at most a few seconds to a 1,000-face run (8 methods x 6 metrics, every
    pair's differences)."""
    rng = np.random.default_rng(0)
    values = rng.normal(25, 2, (8, 6, 1000))
    start = time.perf_counter()
    bootstrap = FaceBootstrap(1000)
    for method in values:
        for metric in method:
            bootstrap.interval(metric)
    for i in range(8):
        for j in range(i):
            for k in range(6):
                bootstrap.difference(values[i, k], values[j, k])
                signed_rank_p(values[i, k], values[j, k])
    assert time.perf_counter() - start < 20  # measured 1.4 s on 2 cores beside a training


def test_difference_of_means_is_welchs_interval():
    a, b = np.array([24.1, 24.5, 24.3]), np.array([23.7, 24.4, 24.0, 23.9])
    interval = difference_of_means(a, b)
    reference = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (interval.low, interval.high) == pytest.approx(tuple(reference), rel=1e-12)
    assert interval.value == pytest.approx(a.mean() - b.mean())
    assert np.isnan(difference_of_means(a[:1], b).low)  # one seed: no spread to judge by


def test_equivalence_verdicts_follow_the_interval_and_the_margin():
    rng = np.random.default_rng(0)
    close = 24 + rng.normal(0, 0.05, 5)
    p, verdict = equivalence(close + 0.02, close[::-1], margin=0.2)
    assert verdict == 'equivalent' and p < 0.05
    interval = difference_of_means(close + 0.02, close[::-1], 0.9)
    assert -0.2 < interval.low < interval.high < 0.2  # TOST at 5 % == the 90 % interval inside the margin
    assert equivalence(close + 0.6, close, margin=0.2)[1] == 'different'
    spread = 24 + rng.normal(0, 0.5, 3)
    assert equivalence(spread, spread[::-1] + 0.05, margin=0.2)[1] == 'cannot tell'  # 3 noisy seeds: too few
    # the one-sided tests themselves, against scipy's
    a, b = close + 0.1, close
    above = stats.ttest_ind(a, b + -0.2, equal_var=False, alternative='greater').pvalue
    below = stats.ttest_ind(a, b + 0.2, equal_var=False, alternative='less').pvalue
    assert equivalence(a, b, 0.2)[0] == pytest.approx(max(above, below), rel=1e-12)
