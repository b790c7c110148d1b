"""How sure a mean over faces is: bootstrap confidence intervals of per-face means and of paired differences.

A benchmark scores every method on the same faces, so the natural uncertainty is the one over faces: draw the
faces with replacement ``n_resamples`` times and look at the spread of the mean (Efron & Tibshirani, *An
Introduction to the Bootstrap*, 1993: the percentile interval, Eq. 13.5, and the bias-corrected and accelerated
(BCa) interval, Eq. 14.9-14.15, with the jackknife acceleration of Eq. 14.15). All methods are resampled with the
**same** draws of faces, so the difference of two methods' resampled means is the paired bootstrap of their
per-face difference (the mean is linear): every pair costs one subtraction, and a 1,000-face, 2,000-resample run
of many methods and metrics takes well under a second (one matrix product of resample counts and values).

The draws are ``numpy.random.default_rng(seed).integers(0, n, (n_resamples, n))``, the draws
``scipy.stats.bootstrap`` makes with the same generator, so its interval on the same arrays is ours to rounding
(tests/test_metrics/test_uncertainty.py). The paired test is the Wilcoxon signed-rank test of
``scipy.stats.wilcoxon`` (its defaults: zero differences dropped, exact below 50 faces, normal approximation
otherwise).

Across training runs (seeds, not faces) the unit is the run: :func:`difference_of_means` is Welch's interval of
the difference of two codes' mean PSNR over seeds, :func:`equivalence` the two one-sided tests (TOST, Schuirmann
1987) of that difference against a margin.
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import ttest_ind, wilcoxon

INTERVAL_METHODS = ('bca', 'percentile')


@dataclass
class Interval:
    """A statistic (the mean over faces or a mean difference) and its confidence interval ``[low, high]``."""
    value: float
    low: float
    high: float

    def excludes_zero(self):
        return self.low > 0 or self.high < 0


def resample_counts(n, n_resamples=2000, seed=0):
    """``(n_resamples, n)`` float64: how often each face is drawn in each bootstrap resample."""
    draws = np.random.default_rng(seed).integers(0, n, (n_resamples, n))
    counts = np.zeros((n_resamples, n))
    np.add.at(counts, (np.arange(n_resamples)[:, None], draws), 1)
    return counts


class FaceBootstrap:
    """The bootstrap over ``n`` faces, shared by every per-face array scored on them.

    ``FaceBootstrap(n).interval(values)`` is the interval of ``values.mean()``;
    ``.difference(a, b)`` the interval of ``mean(a - b)`` for arrays of the same faces (paired).
    """

    def __init__(self, n, n_resamples=2000, level=0.95, method='bca', seed=0):
        if method not in INTERVAL_METHODS:
            raise ValueError(f'interval method {method!r}: one of {", ".join(INTERVAL_METHODS)}.')
        if n < 2:
            raise ValueError(f'a bootstrap over faces needs at least 2 faces, not {n}.')
        self.n, self.level, self.method = n, level, method
        self.weights = resample_counts(n, n_resamples, seed) / n  # resampled mean = weights @ values

    def interval(self, values):
        """:class:`Interval` of the mean of ``values`` (one per face)."""
        values = self._check(values)
        return self._interval(values, self.weights @ values)

    def difference(self, a, b):
        """:class:`Interval` of the mean paired difference ``a - b`` (the same faces, in the same order)."""
        return self.interval(self._check(a) - self._check(b))

    def _check(self, values):
        values = np.asarray(values, np.float64)
        if values.shape != (self.n,):
            raise ValueError(f'expected one value per face ({self.n}), got shape {values.shape}.')
        return values

    def _interval(self, values, means):
        alpha = (1 - self.level) / 2
        mean = float(values.mean())
        if self.method == 'bca':
            low_q, high_q = bca_levels(values, means, alpha)
        else:
            low_q, high_q = alpha, 1 - alpha
        if not np.isfinite(low_q) or not np.isfinite(high_q):  # every face the same value: no spread to resample
            return Interval(mean, mean, mean)
        low, high = np.quantile(means, [low_q, high_q])
        return Interval(mean, float(low), float(high))


def bca_levels(values, means, alpha):
    """The BCa interval's adjusted quantile levels (Efron & Tibshirani Eq. 14.10): bias correction ``z0`` from the
    share of resampled means below the mean (ties counted half, as scipy does), acceleration ``a`` from the
    jackknife of the mean (Eq. 14.15; the leave-one-out means are closed-form)."""
    mean = values.mean()
    share = (np.count_nonzero(means < mean) + np.count_nonzero(means <= mean)) / (2 * means.size)
    z0 = ndtri(share)
    n = values.size
    leave_one_out = (values.sum() - values) / (n - 1)
    deviation = leave_one_out.mean() - leave_one_out
    with np.errstate(divide='ignore', invalid='ignore'):
        acceleration = (deviation ** 3).sum() / (6 * ((deviation ** 2).sum()) ** 1.5)
        levels = []
        for z in (ndtri(alpha), ndtri(1 - alpha)):
            levels.append(ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z))))
    return levels


def signed_rank_p(a, b):
    """Two-sided p-value of the Wilcoxon signed-rank test of the paired differences ``a - b`` (scipy's defaults);
    1.0 when every difference is zero (nothing to rank)."""
    difference = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if not np.any(difference != 0):
        return 1.0
    return float(wilcoxon(difference).pvalue)


def difference_of_means(a, b, level=0.95):
    """:class:`Interval` of ``mean(a) - mean(b)`` for independent samples (e.g. one PSNR per training seed of two
    codes): Welch's t interval (``scipy.stats.ttest_ind(equal_var=False)``); NaN bounds with fewer than two values
    on a side or no spread at all."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    value = float(a.mean() - b.mean())
    if min(a.size, b.size) < 2 or (a.std() == 0 and b.std() == 0):
        return Interval(value, float('nan'), float('nan'))
    low, high = ttest_ind(a, b, equal_var=False).confidence_interval(level)
    return Interval(value, float(low), float(high))


EQUIVALENT, DIFFERENT, UNDECIDED = 'equivalent', 'different', 'cannot tell'


def equivalence(a, b, margin, alpha=0.05):
    """``(p, verdict)`` of the two one-sided Welch tests (TOST) of ``|mean(a) - mean(b)| < margin``: ``p`` is the
    larger one-sided p-value. The verdict is 'equivalent' when ``p < alpha`` (the same as the ``1 - 2 alpha``
    interval of the difference lying inside ``[-margin, +margin]``), 'different' when that interval lies wholly
    outside it (the difference exceeds the margin), 'cannot tell' otherwise (too few seeds for the spread)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    interval = difference_of_means(a, b, 1 - 2 * alpha)
    if not np.isfinite(interval.low):
        return float('nan'), UNDECIDED
    above = ttest_ind(a + margin, b, equal_var=False, alternative='greater').pvalue  # H0: a - b <= -margin
    below = ttest_ind(a - margin, b, equal_var=False, alternative='less').pvalue  # H0: a - b >= +margin
    p = float(max(above, below))
    if p < alpha:
        return p, EQUIVALENT
    if interval.low > margin or interval.high < -margin:
        return p, DIFFERENT
    return p, UNDECIDED
