"""Is a difference between two methods real? Intervals over faces for every method's mean and paired differences.

Computed from the per-face values each method's record stores (``record['per_face']``), with one
:class:`~mrr_plugin.metrics.uncertainty.FaceBootstrap` shared by all methods (the same resampled faces for all, so a
difference is a paired bootstrap) and the Wilcoxon signed-rank test on the same pairs.
"""
from dataclasses import dataclass

from mrr_plugin.metrics.uncertainty import FaceBootstrap, Interval, signed_rank_p

LOWER_IS_BETTER = ('lpips', 'landmark_distance')


@dataclass
class PairedDifference:
    """``a - b`` of metric ``key`` over the same faces: interval of the mean difference and the test's p-value."""
    a: str
    b: str
    key: str
    interval: Interval
    p_value: float

    def distinguishable(self):
        """The interval of the difference excludes zero."""
        return self.interval.excludes_zero()


def per_face_records(records):
    """The records that hold per-face values, checked to be scored on the same faces in the same order."""
    scored = [r for r in records if r.get('per_face')]
    if scored:
        faces = scored[0].get('faces')
        for record in scored[1:]:
            if record.get('faces') != faces:
                raise ValueError(f'methods {scored[0]["name"]} and {record["name"]} were scored on different faces; '
                                 'rerun with --force.')
    return scored


@dataclass
class Comparison:
    """Everything the reports show about uncertainty, computed once per run: the shared ``bootstrap``, each
    method's ``intervals`` (:func:`method_intervals`) and every pair's ``differences`` (:func:`paired_differences`)."""
    bootstrap: FaceBootstrap
    intervals: dict
    differences: list

    def interval_words(self):
        """How the intervals were made, in words (the reports' footnotes)."""
        kind = 'BCa' if self.bootstrap.method == 'bca' else 'percentile'
        return (f'{self.bootstrap.level:.0%} {kind} bootstrap interval ({self.bootstrap.weights.shape[0]} resamples '
                'of the faces, the same resamples for every method)')


def compare(records, method='bca', n_resamples=2000, level=0.95, seed=0):
    """The :class:`Comparison` of the records over their faces, or None when no record has per-face values (or
    there is only one face)."""
    scored = per_face_records(records)
    if not scored or len(scored[0]['faces']) < 2:
        return None
    bootstrap = FaceBootstrap(len(scored[0]['faces']), n_resamples, level, method, seed)
    return Comparison(bootstrap, method_intervals(records, bootstrap), paired_differences(records, bootstrap))


def method_intervals(records, bootstrap):
    """``{method name: {metric key: Interval of its mean over faces}}``."""
    return {r['name']: {key: bootstrap.interval(values) for key, values in r['per_face'].items()}
            for r in per_face_records(records)}


def paired_differences(records, bootstrap):
    """Every pair of methods (a later one minus an earlier one, so a network minus bicubic is positive when it has
    the higher value) and every metric both have per face: list of :class:`PairedDifference`."""
    scored = per_face_records(records)
    found = []
    for j, a in enumerate(scored):
        for b in scored[:j]:
            for key, values in a['per_face'].items():
                if key in b['per_face']:
                    found.append(PairedDifference(a['name'], b['name'], key,
                                                  bootstrap.difference(values, b['per_face'][key]),
                                                  signed_rank_p(values, b['per_face'][key])))
    return found
