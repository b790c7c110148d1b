"""Drop-in layers that compute what a standard PyTorch composition computes, with fewer operations.

Each keeps the parameters (and state-dict keys) of the module it replaces; only the order of floating-point sums
changes (relative differences ~1e-6, checked in tests/test_archs/test_fast_layers.py). ``scripts/benchmark_speed.py``
measures what they buy.
"""
import torch
from torch import nn
from torch.nn import functional as F


def _is_channels_last(x):
    """``x`` is laid out channels-last (and not also plain contiguous, as tensors with one channel or pixel are)."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


class InstanceNorm2d(nn.InstanceNorm2d):
    """``nn.InstanceNorm2d`` (no running statistics) evaluated as group norm with one channel per group.

    Both normalise each (sample, channel) plane by its mean and biased variance, then apply the per-channel affine;
    PyTorch's group-norm kernels do it in one pass where ``instance_norm`` reshapes into a batch norm (about 2x
    faster forward + backward on CPU). Channels-last CPU input is first shifted by a per-plane mean estimate, which
    keeps the one-pass variance of that kernel as accurate as the default layout's.
    """

    def forward(self, x):
        if x.dim() != 4 or self.track_running_stats:
            return super().forward(x)
        if x.device.type == 'cpu' and _is_channels_last(x):
            # PyTorch's channels-last CPU kernel takes the variance as E[x^2] - E[x]^2 in float32 (3 % error at
            # |mean| = 30 std): subtract a near-mean per-plane shift first (the norm is invariant to it).
            x = x - x[:, :, ::4, ::4].mean((2, 3), keepdim=True)
        # bf16 input (CPU autocast): the kernel accumulates mean and variance in float32 with the float32 affine
        # weights, so the statistics are float32 without casting the activations (CUDA autocast runs it in float32)
        return F.group_norm(x, x.shape[1], self.weight, self.bias, self.eps)


def _interleave_phases(y, out_channels):
    """(N, 4C, H+1, W+1) phase outputs (a fresh conv output) -> the (N, C, 2H, 2W) image in ``y``'s memory format.

    Channel block ``2a + b`` of ``y`` holds output phase (a, b), whose window for LR pixel i starts at padded row
    ``i + a``: ``out[n, c, 2i + a, 2j + b] = y[n, (2a + b) C + c, i + a, j + b]``, a strided view of ``y`` copied
    once.
    """
    n, _, height, width = y.shape
    sn, sc, sh, sw = y.stride()
    phases = torch.as_strided(y, (n, out_channels, height - 1, 2, width - 1, 2),
                              (sn, sc, sh, 2 * out_channels * sc + sh, sw, out_channels * sc + sw))
    size = (n, out_channels, 2 * height - 2, 2 * width - 2)
    if _is_channels_last(y):
        return phases.permute(0, 2, 3, 4, 5, 1).reshape(n, size[2], size[3], out_channels).permute(0, 3, 1, 2)
    return phases.reshape(size)


def _nearest_up_phase_kernels(weight):
    """(C_out, C_in, 3, 3) -> (4 C_out, C_in, 2, 2): the 3x3 kernel as seen from the LR grid by each output phase.

    After nearest x2 upsampling, output row ``2i`` reads LR rows (i-1, i, i) through kernel rows (0, 1, 2), and row
    ``2i+1`` reads (i, i, i+1): phase 0 taps = (w0, w1 + w2), phase 1 taps = (w0 + w1, w2); the same along columns.
    """
    def phases(w, dim):
        w0, w1, w2 = w.unbind(dim)
        return torch.stack([torch.stack([w0, w1 + w2], dim), torch.stack([w0 + w1, w2], dim)])

    rows = phases(weight, 2)  # (2a, C_out, C_in, 2, 3)
    both = phases(rows, 4)  # (2b, 2a, C_out, C_in, 2, 2)
    return both.transpose(0, 1).reshape(4 * weight.shape[0], weight.shape[1], 2, 2)


def _replicate_pad1(x):
    """Replicate padding by one pixel. Under torch.compile as concatenations: inductor's channels-last layout trips
    the stride check of ``replication_pad2d_backward`` (torch 2.14)."""
    if not torch.compiler.is_compiling():
        return F.pad(x, (1, 1, 1, 1), mode='replicate')
    x = torch.cat([x[..., :1, :], x, x[..., -1:, :]], dim=-2)
    return torch.cat([x[..., :1], x, x[..., -1:]], dim=-1)


class NearestUpConv2d(nn.Conv2d):
    """``conv3x3(reflection_pad1(nearest_up_x2(x)))`` computed on the LR grid (sub-pixel decomposition).

    Each of the four output phases is a 2x2 conv of the LR input (replicate-padded by one, which is what reflection
    padding of the upsampled image reads at the border), done as one conv with 4x the output channels and
    interleaved: 16 instead of 36 multiply-adds per input channel and LR pixel, no upsampled tensor. Parameters are
    the 3x3 conv's (``weight``, ``bias``), so spectral norm and checkpoints work unchanged.
    """

    def __init__(self, in_channels, out_channels, bias=True):
        super().__init__(in_channels, out_channels, 3, bias=bias)

    def _conv_forward(self, x, weight, bias):
        kernels = _nearest_up_phase_kernels(weight)
        phases = F.conv2d(_replicate_pad1(x), kernels, None if bias is None else bias.repeat(4))
        return _interleave_phases(phases, self.out_channels)


class _ShiftedTapSum(torch.autograd.Function):
    """``out = sum_ij maps[:, i, j, :, i:i+H', j:j+W']`` accumulated in float32. The backward writes each tap's
    window of one zero tensor (autograd's slice backward would allocate a whole ``maps``-sized tensor per tap)."""

    @staticmethod
    def forward(ctx, maps, out_h, out_w):
        ctx.maps_shape, ctx.maps_dtype = maps.shape, maps.dtype
        kh, kw = maps.shape[1:3]
        out = maps[:, 0, 0, :, :out_h, :out_w].to(torch.float32, copy=True)  # never a view of maps
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    out += maps[:, i, j, :, i:i + out_h, j:j + out_w]
        return out

    @staticmethod
    def backward(ctx, grad_out):
        kh, kw = ctx.maps_shape[1:3]
        out_h, out_w = grad_out.shape[-2:]
        grad_maps = grad_out.new_zeros(ctx.maps_shape, dtype=ctx.maps_dtype)
        for i in range(kh):
            for j in range(kw):
                grad_maps[:, i, j, :, i:i + out_h, j:j + out_w] = grad_out
        return grad_maps, None, None


class FewOutputConv2d(nn.Conv2d):
    """A stride-1, unpadded conv with few output channels (attention maps, the RGB output) as one matmul and k*k
    shifted sums: ``out = b + sum_ij (W_ij . x)[:, :, i:i+H', j:j+W']``.

    The 1x1 products of all kernel taps (``k*k*C_out`` maps) come from one matmul over the input channels, then each
    map is added at its tap's offset (in float32, also under autocast). oneDNN's direct kernels run 1- and 3-output
    convs far below their speed on wide layers; this does the same multiply-adds at matmul speed. Parameters are a
    plain conv's, so checkpoints and spectral norm work unchanged. Under torch.compile it is a plain conv.
    """

    def __init__(self, in_channels, out_channels, kernel_size, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)

    def _conv_forward(self, x, weight, bias):
        if torch.compiler.is_compiling():  # inductor's own conv lowering is faster than its code for the sums
            return super()._conv_forward(x, weight, bias)
        n, c, height, width = x.shape
        out_channels, _, kh, kw = weight.shape
        out_h, out_w = height - kh + 1, width - kw + 1
        taps = weight.permute(2, 3, 0, 1).reshape(kh * kw * out_channels, c)
        if _is_channels_last(x):
            pixels = x.permute(0, 2, 3, 1).reshape(n, height * width, c)
            maps = (pixels @ taps.t()).view(n, height, width, kh, kw, out_channels).permute(0, 3, 4, 5, 1, 2)
        else:
            maps = torch.bmm(taps.expand(n, -1, -1), x.reshape(n, c, height * width))  # (taps @ x) copies x
            maps = maps.view(n, kh, kw, out_channels, height, width)
        out = _ShiftedTapSum.apply(maps, out_h, out_w)
        if bias is not None:
            out = out + bias.float().view(1, -1, 1, 1)
        return out.to(maps.dtype)
