"""The encoder / body / decoder skeleton shared by MRRNet (ICANN 2022) and SPARNet (TIP 2020): its conv and norm
layers, the pre-activation residual block of MRRNet eq. 1/6 (SPARNet eq. 2) and the attention-branch interface.

Module and parameter names follow the authors' released code (``encoder.1.conv1.norm.norm.weight``, ...), so
their checkpoints load into our classes with ``strict=True``. A network built on the skeleton only supplies the
attention branch of each block (``attention_factory``). Speed and memory devices are constructor options
(``inference_chunk``, ``checkpoint_blocks``; :mod:`~mrr_plugin.archs.memory_saving`).
"""
import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from mrr_plugin.archs.fast_layers import FewOutputConv2d, InstanceNorm2d, NearestUpConv2d
from mrr_plugin.archs.memory_saving import RecomputeOnce, run_in_chunks
from mrr_plugin.archs.pil_resize import PILBicubicUpsample
from mrr_plugin.archs.settled_spectral_norm import apply_spectral_norm

LEAKY_SLOPE = 0.2
FEW_OUTPUT_CHANNELS = 3  # attention maps and RGB outputs: FewOutputConv2d


class AttentionBranch(nn.Module):
    """Base of the spatial-attention branches of the residual blocks (MRR, CBAM, SPARNet's hourglass).

    A branch computes a map ``a`` in [0, 1] from the residual features ``f`` and returns ``gate(a, f) = a * f``;
    the map of the most recent forward is read through :meth:`attention_map` (detached, for visualisation), the one
    interface the skeleton's ``attention_maps()``, the chunked inference and the benchmark's pictures use.
    """

    def __init__(self):
        super().__init__()
        self._attention_map = None

    def gate(self, attention, features):
        self._attention_map = attention.detach()
        return attention * features

    def attention_map(self):
        """``(N, 1 or C, H, W)`` map of the last forward, or None before the first."""
        return self._attention_map

    def set_attention_map(self, attention):
        """Replace the kept map (e.g. the parts of a chunked forward joined into the whole batch's map)."""
        self._attention_map = attention


class NormLayer(nn.Module):
    """Feature normalisation; ``norm_type`` is 'bn', 'in' (affine) or 'none'. Held as ``.norm`` like the authors."""

    def __init__(self, channels, norm_type='bn'):
        super().__init__()
        norm_type = norm_type.lower()
        if norm_type == 'bn':
            self.norm = nn.BatchNorm2d(channels)
        elif norm_type == 'in':
            self.norm = InstanceNorm2d(channels, affine=True)
        elif norm_type == 'none':
            self.norm = nn.Identity()
        else:
            raise ValueError(f"norm_type must be 'bn', 'in' or 'none', got {norm_type!r}.")

    def forward(self, x):
        return self.norm(x)


class ConvLayer(nn.Module):
    """[nearest x2 if 'up'] -> reflection pad -> conv (stride 2 if 'down') -> [norm] -> [LeakyReLU 0.2].

    The conv has a bias only when no normalisation follows it. A 3x3 'up' layer runs the upsampling, padding and
    conv as one :class:`~mrr_plugin.archs.fast_layers.NearestUpConv2d` on the LR grid, and a layer with at most
    three outputs uses :class:`~mrr_plugin.archs.fast_layers.FewOutputConv2d` (same function and weights).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, scale='none', norm_type='none', activate=False):
        super().__init__()
        if scale not in ('none', 'up', 'down'):
            raise ValueError(f"scale must be 'none', 'up' or 'down', got {scale!r}.")
        bias = norm_type == 'none'
        self.upsample_first = scale == 'up' and kernel_size != 3
        if scale == 'up' and kernel_size == 3:
            self.reflection_pad = nn.Identity()  # upsampling and padding happen inside the conv
            self.conv2d = NearestUpConv2d(in_channels, out_channels, bias=bias)
        else:
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            if scale == 'none' and out_channels <= FEW_OUTPUT_CHANNELS:
                self.conv2d = FewOutputConv2d(in_channels, out_channels, kernel_size, bias=bias)
            else:
                stride = 2 if scale == 'down' else 1
                self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, bias=bias)
        self.norm = NormLayer(out_channels, norm_type)
        self.activate = activate

    def forward(self, x):
        if self.upsample_first:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.norm(self.conv2d(self.reflection_pad(x)))
        # in place: conv and norm outputs are fresh tensors whose backward does not need them (as the authors)
        return F.leaky_relu(x, LEAKY_SLOPE, inplace=True) if self.activate else x


class PreActResidualBlock(nn.Module):
    """Pre-activation residual block with a spatial-attention branch (MRRNet eq. 1 and 6, SPARNet eq. 2).

    ``f = IN(conv2(LReLU(IN(conv1(LReLU(IN(x)))))))``; ``out = shortcut(x) + attention(f)``, where the attention
    branch returns ``a * f`` (``a`` in [0, 1]) or ``f`` itself when the block has no attention (ablation "w/o SA").
    """

    def __init__(self, in_channels, out_channels, scale='none', norm_type='in', attention=None):
        super().__init__()
        if scale == 'none' and in_channels == out_channels:
            self.shortcut_func = nn.Identity()
        else:
            self.shortcut_func = ConvLayer(in_channels, out_channels, 3, scale)
        # in place after a norm (a fresh tensor); without one the input itself would be overwritten
        self.preact_func = nn.Sequential(NormLayer(in_channels, norm_type),
                                         nn.LeakyReLU(LEAKY_SLOPE, inplace=norm_type != 'none'))
        first_scale, second_scale = {'none': ('none', 'none'), 'down': ('none', 'down'), 'up': ('up', 'none')}[scale]
        self.conv1 = ConvLayer(in_channels, out_channels, 3, first_scale, norm_type, activate=True)
        self.conv2 = ConvLayer(out_channels, out_channels, 3, second_scale, norm_type)
        self.att_func = attention if attention is not None else nn.Identity()

    def residual(self, x):
        """The block's residual features ``f`` before attention."""
        return self.conv2(self.conv1(self.preact_func(x)))

    def forward(self, x):
        return self.shortcut_func(x) + self.att_func(self.residual(x))


class FaceSRSkeleton(nn.Module):
    """Head conv -> down blocks -> body blocks -> up blocks -> tail conv (no global skip, no output activation).

    The network takes the LR face in [0, 1] and, for ``upscale > 1``, bicubic-upsamples it inside exactly as PIL
    does on 8-bit images (what the authors fed their nets); ``upscale: 1`` accepts a pre-upsampled input. The
    body runs in [-1, 1] as the authors trained it (``range_norm``, default on), so that
    ``ours(lr) == (ref(2 * bicubic_up(lr) - 1) + 1) / 2`` and their checkpoints give identical outputs; their
    N(0, 0.02) initialisation then starts the output at mid-grey, as theirs.

    Args:
        attention_factory (callable): ``(channels, hourglass_depth) -> nn.Module | None`` for each block.
        upscale (int): 8 for 16x16 -> 128x128, 1 when the input is already upsampled.
        in_size (int): Spatial size the body works at (the HR size).
        min_ch, max_ch (int): Channel clip of the encoder/decoder widths.
        min_feat_size (int): Spatial size of the body (log2(in_size / min_feat_size) down/up blocks).
        res_depth (int): Body depth parameter of the authors' code (body blocks = res_depth + 3 - down steps).
        norm_type (str): 'in' (MRRNet), 'bn' (SPARNet) or 'none'.
        range_norm (bool): Run the body on [-1, 1] (the authors' ``Normalize(0.5, 0.5)``) while inputs and
            outputs stay in [0, 1]. Default: True. False runs the body on [0, 1]: the network then starts from a
            black output and trains clearly slower (README "Training like the authors").
        bottleneck_size (int): Smallest hourglass feature size; sets the per-block hourglass depth.
        spectral_norm (bool): Spectral norm on every conv (SPARNetHD, TIP 2020 section III-C); parameter names
            become ``*.conv2d.weight_orig`` as in the authors' code.
        checkpoint_blocks (str): Gradient checkpointing while training: 'none' (default), 'body' (the body
            blocks) or 'all' (every residual block): their activations are recomputed in the backward pass (less
            memory, same gradients, more time; scripts/benchmark_memory.py measures it).
        inference_chunk (int): On CPU in eval-mode inference, the two residual blocks working at the HR size run
            this many samples at a time (0: the whole batch). Their activations (16-32 MiB each for 8 faces at
            128x128) then stay cache-sized instead of being fresh page-faulted allocations; every layer is
            per-sample there, so the outputs are the same (scripts/benchmark_speed.py measures the gain).
    """

    def __init__(self,
                 attention_factory,
                 upscale=8,
                 in_size=128,
                 min_ch=32,
                 max_ch=128,
                 min_feat_size=16,
                 res_depth=10,
                 norm_type='in',
                 range_norm=True,
                 bottleneck_size=4,
                 spectral_norm=False,
                 checkpoint_blocks='none',
                 inference_chunk=2):
        super().__init__()
        self.upscale = upscale
        self.inference_chunk = inference_chunk
        self.range_norm = range_norm
        if checkpoint_blocks not in ('none', 'body', 'all'):
            raise ValueError(f"checkpoint_blocks must be 'none', 'body' or 'all', got {checkpoint_blocks!r}.")
        self.checkpoint_blocks = checkpoint_blocks
        if upscale > 1:
            self.upsample = PILBicubicUpsample(upscale, in_size // upscale)

        def clip(channels):
            return max(min_ch, min(channels, max_ch))

        steps = int(math.log2(in_size // min_feat_size))
        n_ch = clip(max_ch // (steps + 1))
        hg_depth = int(math.log2(64 // bottleneck_size))

        encoder = [ConvLayer(3, n_ch, 3)]
        for _ in range(steps):
            encoder.append(self._block(clip(n_ch), clip(n_ch * 2), 'down', norm_type, attention_factory, hg_depth))
            n_ch, hg_depth = n_ch * 2, hg_depth - 1
        self.encoder = nn.Sequential(*encoder)

        hg_depth += 1
        self.res_layers = nn.Sequential(*[
            self._block(clip(n_ch), clip(n_ch), 'none', norm_type, attention_factory, hg_depth)
            for _ in range(res_depth + 3 - steps)
        ])

        decoder = []
        for _ in range(steps):
            hg_depth += 1
            decoder.append(self._block(clip(n_ch), clip(n_ch // 2), 'up', norm_type, attention_factory, hg_depth))
            n_ch //= 2
        self.decoder = nn.Sequential(*decoder)
        self.out_conv = ConvLayer(clip(n_ch), 3, 3)
        self.apply(init_weights)
        if spectral_norm:
            apply_spectral_norm(self)

    @staticmethod
    def _block(in_channels, out_channels, scale, norm_type, attention_factory, hg_depth):
        return PreActResidualBlock(in_channels, out_channels, scale, norm_type,
                                   attention_factory(out_channels, hg_depth))

    def forward(self, x):
        if self.upscale > 1:
            x = self.upsample(x)
        if self.range_norm:
            x = x * 2 - 1
        x = self.encoder[0](x)  # the head conv
        recomputed = self._recomputed_blocks() if torch.is_grad_enabled() else set()
        chunked = self._chunked_blocks(x)
        for block in [*self.encoder[1:], *self.res_layers, *self.decoder]:
            if block in recomputed:
                x = checkpoint(RecomputeOnce(block), x, use_reentrant=False)
            elif block in chunked:
                x = run_in_chunks(block, x, self.inference_chunk)
            else:
                x = block(x)
        out = self.out_conv(x)
        return (out + 1) / 2 if self.range_norm else out

    def _recomputed_blocks(self):
        """The residual blocks ``checkpoint_blocks`` asks to recompute in the backward pass."""
        if self.checkpoint_blocks == 'none':
            return set()
        body = set(self.res_layers)
        return body if self.checkpoint_blocks == 'body' else body | set(self.encoder[1:]) | set(self.decoder)

    def _chunked_blocks(self, x):
        """The blocks at the HR size when ``inference_chunk`` applies to this forward (see the class docstring)."""
        applies = (0 < self.inference_chunk < x.shape[0] and x.device.type == 'cpu' and not self.training
                   and not torch.is_grad_enabled() and not torch.compiler.is_compiling())
        return {self.encoder[1], self.decoder[-1]} if applies and len(self.decoder) else set()

    def attention_maps(self):
        """``{block name: last spatial attention map (N, 1 or C, H, W)}`` of the most recent forward."""
        return {
            name: module.attention_map()
            for name, module in self.named_modules()
            if isinstance(module, AttentionBranch) and module.attention_map() is not None
        }


def init_weights(module, std=0.02):
    """The authors' init: conv/linear weights N(0, 0.02) with zero bias; BatchNorm weight N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)
