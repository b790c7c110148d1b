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


PRECISION_BITS = 22  # PIL's 8-bit resampling: coefficients in fixed point with 32 - 8 - 2 fractional bits


@functools.lru_cache(maxsize=64)
def pil_fixed_point_matrix(in_size, out_size):
    """The integer coefficients PIL's 8-bit resampling uses (``normalize_coeffs_8bpc``): each weight of
    :func:`pil_bicubic_matrix` times ``2 ** PRECISION_BITS``, rounded half away from zero, as int64."""
    scaled = pil_bicubic_matrix(in_size, out_size) * (1 << PRECISION_BITS)
    fixed = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64)
    fixed.setflags(write=False)
    return fixed


def pil_bicubic_resize(x, size, quantize=False):
    """Resize a batch ``(N, C, H, W)`` to ``size`` (int or (h, w)) with PIL's bicubic kernel, horizontal pass first.

    With ``quantize=True`` (inputs in [0, 1]) it is PIL's 8-bit pipeline itself, bit for bit: the input on the 1/255
    grid, then per pass PIL's fixed-point sum (integer coefficients, ``2 ** 21`` added, shifted right by 22 bits,
    clipped to 0..255), computed exactly in float64 whatever the input's dtype; the result is float32 (float64 for
    a float64 input). Without it the float result differs from PIL by 1/255 on ~20 % of pixels and up to 9/255
    where PIL clips cubic overshoot between its passes. Horizontal first is PIL's order for a resize by one factor
    on both axes (every resize in this package); Pillow 13 (python-pillow/Pillow#9549) does the vertical pass first
    when the height shrinks much more than the width, which this function does not follow.
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
    in_h, in_w = x.shape[-2:]
    if quantize:
        rows = torch.tensor(pil_fixed_point_matrix(in_h, out_h), device=x.device)
        cols = torch.tensor(pil_fixed_point_matrix(in_w, out_w), device=x.device)
    else:
        rows = torch.tensor(pil_bicubic_matrix(in_h, out_h), device=x.device, dtype=x.dtype)
        cols = torch.tensor(pil_bicubic_matrix(in_w, out_w), device=x.device, dtype=x.dtype)
    return resize_with_matrices(x, rows, cols, quantize)


def resize_with_matrices(x, rows, cols, quantize=False):
    """Separable resize ``rows @ x @ cols.T`` (horizontal pass first, as PIL), also inside an autocast region.

    ``quantize=False``: float matrices, computed in float32 (float64 for a float64 input). ``quantize=True``: the
    fixed-point matrices of :func:`pil_fixed_point_matrix` and PIL's 8-bit arithmetic, exact in float64 (every sum
    is an integer below 2 ** 53); bf16's 8-bit mantissa or float32's rounding would move pixels off PIL's.
    """
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    with torch.autocast(x.device.type, enabled=False):
        if quantize:
            pixels = torch.round(x.to(torch.float64).clamp(0, 1) * 255)
            pixels = _fixed_point_pass(torch.matmul(pixels, cols.to(torch.float64).t()))
            pixels = _fixed_point_pass(torch.matmul(rows.to(torch.float64), pixels))
            return (pixels / 255).to(dtype)
        return torch.matmul(rows.to(dtype), torch.matmul(x.to(dtype), cols.to(dtype).t()))


def _fixed_point_pass(sums):
    """PIL's ``clip8``: the fixed-point sum plus one half, shifted right by ``PRECISION_BITS``, clipped to 0..255."""
    return torch.floor((sums + (1 << (PRECISION_BITS - 1))) / (1 << PRECISION_BITS)).clamp(0, 255)


class PILBicubicUpsample(nn.Module):
    """PIL's 8-bit bicubic upsampling by ``scale`` as a layer: what the face-SR authors fed their networks (an LR face
    saved as 8-bit, ``Image.resize(BICUBIC)`` to the HR size, ``ToTensor``), for inputs in [0, 1], bit for bit.

    PIL's integer coefficients for the expected LR size ``in_size`` are a fixed non-persistent int64 buffer (not in
    the state dict; ``.half()`` or ``.double()`` leave it as it is); other sizes are resized with freshly computed
    ones. The arithmetic is float64 (exact), the result float32 (also under autocast), float64 for a float64 input
    (``net.double()``).
    """

    def __init__(self, scale, in_size=16):
        super().__init__()
        self.scale = scale
        weights = torch.tensor(pil_fixed_point_matrix(in_size, in_size * scale))
        self.register_buffer('weights', weights, persistent=False)

    def forward(self, x):
        if x.shape[-2:] == (self.weights.shape[1], ) * 2:
            return resize_with_matrices(x, self.weights, self.weights, quantize=True)
        return pil_bicubic_resize(x, (x.shape[-2] * self.scale, x.shape[-1] * self.scale), quantize=True)
