"""The PIL-exact resize: PIL's bicubic (Keys kernel, a = -0.5) as fixed separable matrices in torch.

PIL and MATLAB use a = -0.5; ``torch.nn.functional.interpolate(mode='bicubic')`` uses a = -0.75, which scores
about 0.13 dB higher as an x8 face baseline. The DIC test sets and the authors' networks were made with PIL.
"""
import functools

import numpy as np
import torch
from torch import nn


def keys_cubic(x, a=-0.5):
    """Keys' cubic convolution kernel (PIL ``bicubic_filter``) evaluated on an array."""
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


@functools.lru_cache(maxsize=64)
def pil_bicubic_matrix(in_size, out_size):
    """(out_size, in_size) float64 matrix W with ``resize(x) = W @ x`` along one axis, as PIL computes it.

    Mirrors PIL's ``precompute_coeffs``: the kernel support is widened by the scale when shrinking (antialias),
    windows are clipped at the border and each row is renormalised to sum to one.
    """
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = 2.0 * filter_scale
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    for out_index in range(out_size):
        center = (out_index + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        last = min(int(center + support + 0.5), in_size)
        taps = np.arange(first, last)
        weights = keys_cubic((taps - center + 0.5) / filter_scale)
        matrix[out_index, first:last] = weights / weights.sum()
    matrix.setflags(write=False)
    return matrix


def pil_bicubic_resize(x, size, quantize=False):
    """Resize a batch ``(N, C, H, W)`` to ``size`` (int or (h, w)) with PIL's bicubic kernel.

    With ``quantize=True`` (inputs in [0, 1]) it also reproduces PIL's 8-bit pipeline: horizontal pass, clip and
    round to the 1/255 grid, vertical pass, clip and round. On real faces this matches ``PIL.Image.resize`` on
    all but about 0.01 % of pixels (fixed-point ties, off by at most 2/255); without it the float result differs
    from PIL by 1/255 on ~20 % of pixels and up to 9/255 where PIL clips cubic overshoot between its passes.
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
    in_h, in_w = x.shape[-2:]
    rows = torch.tensor(pil_bicubic_matrix(in_h, out_h), device=x.device, dtype=x.dtype)
    cols = torch.tensor(pil_bicubic_matrix(in_w, out_w), device=x.device, dtype=x.dtype)
    return resize_with_matrices(x, rows, cols, quantize)


def resize_with_matrices(x, rows, cols, quantize=False):
    """Separable resize ``rows @ x @ cols.T`` (horizontal pass first, as PIL), optionally 8-bit like PIL; in float32
    (float64 for a float64 input), also inside an autocast region (bf16's 8-bit mantissa would move pixels off PIL's
    1/255 grid)."""
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    with torch.autocast(x.device.type, enabled=False):  # float32 on purpose: PIL-exact
        x = torch.matmul(x.to(dtype), cols.to(dtype).t())
        if quantize:
            x = quantize_8bit(x)
        x = torch.matmul(rows.to(dtype), x)
        return quantize_8bit(x) if quantize else x


def quantize_8bit(x):
    """Clip to [0, 1] and round to the nearest multiple of 1/255 (what saving to uint8 does)."""
    return torch.round(x.clamp(0, 1) * 255) / 255


class PILBicubicUpsample(nn.Module):
    """PIL's 8-bit bicubic upsampling by ``scale`` as a layer: what the face-SR authors fed their networks (an LR face
    saved as 8-bit, ``Image.resize(BICUBIC)`` to the HR size, ``ToTensor``), for inputs in [0, 1].

    The weights for the expected LR size ``in_size`` are a fixed non-persistent buffer (not in the state dict);
    other sizes are resized with freshly computed weights. Always float32 (also under autocast), float64 for a
    float64 input (``net.double()``).
    """

    def __init__(self, scale, in_size=16):
        super().__init__()
        self.scale = scale
        weights = torch.tensor(pil_bicubic_matrix(in_size, in_size * scale), dtype=torch.float32)
        self.register_buffer('weights', weights, persistent=False)

    def forward(self, x):
        if x.shape[-2:] == (self.weights.shape[1], ) * 2:
            return resize_with_matrices(x, self.weights, self.weights, quantize=True)
        return pil_bicubic_resize(x, (x.shape[-2] * self.scale, x.shape[-1] * self.scale), quantize=True)
