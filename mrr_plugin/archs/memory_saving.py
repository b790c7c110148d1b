"""Memory machinery of the face SR skeleton: gradient checkpointing that recomputes a block exactly once, and
inference on a few samples at a time for the blocks working at the HR size."""
import contextlib

import torch
from torch import nn
from torch.nn.utils.spectral_norm import SpectralNorm


def run_in_chunks(module, x, size):
    """``module(x)`` computed on ``size`` samples at a time, for modules that treat samples independently; the
    attention map of every attention branch inside (``attention_map()``) is re-joined to cover the whole batch."""
    outputs, maps = [], {}
    for part in x.split(size):
        outputs.append(module(part))
        for submodule in module.modules():
            if hasattr(submodule, 'attention_map') and submodule.attention_map() is not None:
                maps.setdefault(submodule, []).append(submodule.attention_map())
    for submodule, parts in maps.items():
        submodule.set_attention_map(torch.cat(parts))
    return torch.cat(outputs)


class RecomputeOnce:
    """Runs ``block``; its second call (checkpointing's recomputation in backward) repeats the forward exactly.

    A plain recomputation would advance spectral norm's power iteration and BatchNorm's running statistics a second
    time, giving a different weight than the forward used and twice-updated statistics.
    """

    def __init__(self, block):
        self.block = block
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == 1:
            return self.block(x)
        with _without_state_updates(self.block):
            return self.block(x)


@contextlib.contextmanager
def _without_state_updates(module):
    """Spectral-norm convs reuse their current u/v; BatchNorm layers keep their running statistics."""
    saved, counters = [], []
    for submodule in module.modules():
        if any(isinstance(hook, SpectralNorm) for hook in submodule._forward_pre_hooks.values()):
            saved.append((submodule, 'training', submodule.training))
            submodule.training = False
        if isinstance(submodule, nn.modules.batchnorm._BatchNorm) and submodule.momentum is not None:
            saved.append((submodule, 'momentum', submodule.momentum))
            submodule.momentum = 0.0  # running = 1 * running + 0 * batch
            if submodule.num_batches_tracked is not None:
                counters.append((submodule.num_batches_tracked, submodule.num_batches_tracked.clone()))
    try:
        yield
    finally:
        for submodule, attribute, value in saved:
            setattr(submodule, attribute, value)
        for counter, value in counters:
            counter.copy_(value)
