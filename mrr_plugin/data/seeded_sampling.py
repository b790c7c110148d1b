"""Training samples that are a function of (seed, epoch, index) alone, and a sampler that can start mid-epoch.

BasicSR's training loader draws each face's random crop, flip and degradation from the generators of whichever
process loads it: the main process with ``num_worker_per_gpu: 0``, else a worker that BasicSR re-seeds with the
same numbers at every epoch. A resumed run therefore sees other augmentations than the run it continues (and its
epoch restarts at the first batch). Here:

- :class:`SeededSamples` seeds Python's, numpy's and torch's generators from ``(seed, epoch, index)`` before it
  loads a sample (and puts the caller's generator states back afterwards), so a sample is the same whichever
  process, worker count or resume produced it, and differs from epoch to epoch;
- :class:`ResumableSampler` is BasicSR's ``EnlargedSampler`` (same shuffled order per epoch, the same share per
  rank) that yields ``(epoch, index)`` keys and can skip the samples a resumed run has already trained on.
"""
import random

import numpy as np
import torch
from basicsr.data.data_sampler import EnlargedSampler

from mrr_plugin.data.dataset_wrapper import DatasetWrapper
from mrr_plugin.utils.resume import preserved_rng_states


def sample_seed(seed, epoch, index):
    """A 63-bit seed for sample ``index`` of ``epoch`` of a run seeded with ``seed`` (numpy's SeedSequence mixes
    the three, so neighbouring samples and epochs get unrelated streams)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(2, np.uint32).astype(np.uint64)
               .dot([1 << 31, 1]))


class SeededSamples(DatasetWrapper):
    """``dataset[index]`` loaded with every global generator seeded from ``(seed, epoch, index)``; keys are the
    ``(epoch, index)`` pairs of :class:`ResumableSampler`."""

    def __init__(self, dataset, seed):
        super().__init__(dataset)
        self.seed = seed

    def __getitem__(self, key):
        epoch, index = key
        seed = sample_seed(self.seed, epoch, index)
        with preserved_rng_states(cuda=False):  # samples are made on CPU
            random.seed(seed)
            np.random.seed(seed % (1 << 32))
            torch.default_generator.manual_seed(seed)
            return self.dataset[index]


class ResumableSampler(EnlargedSampler):
    """BasicSR's ``EnlargedSampler`` yielding ``(epoch, index)``; ``set_epoch(epoch, skip)`` leaves out this
    rank's first ``skip`` samples of the epoch (those a resumed run already trained on)."""

    def __init__(self, dataset, num_replicas, rank, ratio=1):
        super().__init__(dataset, num_replicas, rank, ratio)
        self.skip = 0

    def set_epoch(self, epoch, skip=0):
        super().set_epoch(epoch)
        self.skip = skip

    def __iter__(self):
        return ((self.epoch, index) for index in list(super().__iter__())[self.skip:])

    def __len__(self):
        return max(super().__len__() - self.skip, 0)
