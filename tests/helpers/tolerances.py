"""Float tolerances derived from the computation, so that comparisons hold on any x86-64 CPU.

Two float32 evaluations of the same function that differ only in the order of their sums (oneDNN picks other
kernels for other batch sizes, CPUs, thread counts and layouts) differ by rounding alone. A sum of ``n``
products rounds to a relative error of about ``sqrt(n) * eps`` (a random walk of ``n`` roundings, ``eps`` =
2**-23); layers in a row add their relative errors, and normalisation layers pass them on. So two such
evaluations of a net with ``depth`` layers whose widest sum has ``fan_in`` terms stay within
``SAFETY * depth * sqrt(fan_in) * eps`` of the output's magnitude. A logic error (a wrong chunk, a wrong map,
a missing term) moves outputs by a sizeable fraction of that magnitude, far beyond the bound.
"""
import math

import torch

SAFETY = 4
EPS32 = torch.finfo(torch.float32).eps


def layer_depth_and_fan_in(module):
    """(number of conv/linear layers, largest number of products one of their outputs sums)."""
    layers = [m for m in module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    fan_in = max(m.weight[0].numel() for m in layers)
    return len(layers), fan_in


def float32_reordering_atol(module, reference):
    """Absolute tolerance for comparing ``module``'s float32 outputs computed with differently ordered sums."""
    depth, fan_in = layer_depth_and_fan_in(module)
    return SAFETY * depth * math.sqrt(fan_in) * EPS32 * reference.abs().max().item()


def assert_close_up_to_float32_reordering(module, actual, reference):
    """``actual`` equals ``reference`` up to the rounding of reordered float32 sums in ``module``."""
    torch.testing.assert_close(actual, reference, rtol=0, atol=float32_reordering_atol(module, reference))
