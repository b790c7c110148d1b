"""MRRNet: "Face Super-Resolution with Spatial Attention Guided by Multiscale Receptive-Field Features" (ICANN 2022).

Same function and parameter names as the authors' released generator (9,130,771 parameters by default).
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import AttentionBranch, ConvLayer, FaceSRSkeleton
from mrr_plugin.archs.fast_layers import InstanceNorm2d


class MultiReceptiveFieldFeatures(nn.Module):
    """Multiscale receptive-field features of the attention branch (paper eq. 2-4).

    Parallel convs with kernels ``k`` (each ``C -> C / len(kernels)``, bias, reflection padding ``k // 2``) on the
    residual features, concatenated, ReLU, then a non-affine InstanceNorm. Branch ``k`` is stored as
    ``feature_extract_<k>`` like the authors' ``Inception_Module``.

    Speed device (``paired_branches_below``, default 16; 0 turns it off): branches narrower than that many
    channels (8 per branch at 128x128 by default) run two at a time, the smaller kernel zero-embedded in the larger
    one, one conv with twice the outputs on one reflection padding (the inner ``k // 2`` ring of a wider
    reflection padding is the narrower one). CPU conv kernels fill 16 output channels per vector, so the pair costs
    what the wider branch alone costs (``tests/test_archs`` checks the function is unchanged;
    ``scripts/benchmark_speed.py`` measures the net).
    """

    def __init__(self, channels, kernel_sizes=(1, 3, 5, 7), paired_branches_below=16):
        super().__init__()
        branch_channels = channels // len(kernel_sizes)
        if branch_channels == 0:
            raise ValueError(f'{channels} channels cannot be split over kernels {kernel_sizes}.')
        self.kernel_sizes = tuple(kernel_sizes)
        for k in self.kernel_sizes:
            if k % 2 == 0:
                raise ValueError(f'Attention kernel sizes must be odd, got {k}.')
            layers = [nn.Conv2d(channels, branch_channels, k)]
            if k > 1:
                layers.insert(0, nn.ReflectionPad2d(k // 2))
            self.add_module(f'feature_extract_{k}', nn.Sequential(*layers))
        self.out_channels = branch_channels * len(self.kernel_sizes)
        self.in_norm = InstanceNorm2d(self.out_channels)
        size = 2 if branch_channels < paired_branches_below else 1
        self.groups = [self.kernel_sizes[i:i + size] for i in range(0, len(self.kernel_sizes), size)]

    def forward(self, x):
        fused = torch.cat([self._branches(x, kernels) for kernels in self.groups], dim=1)
        return self.in_norm(F.relu(fused, inplace=True))  # torch.cat's output is fresh

    def _branches(self, x, kernels):
        """The outputs of the branches with these kernel sizes, concatenated (one conv for a pair)."""
        branches = [getattr(self, f'feature_extract_{k}') for k in kernels]
        if len(branches) == 1:
            return branches[0](x)
        convs = [branch[-1] for branch in branches]
        if any(conv._forward_pre_hooks for conv in convs):  # e.g. spectral norm computes the weight in a hook
            return torch.cat([branch(x) for branch in branches], dim=1)
        size = max(kernels)
        weight = torch.cat([F.pad(conv.weight, ((size - k) // 2, ) * 4) for conv, k in zip(convs, kernels)])
        padded = F.pad(x, (size // 2, ) * 4, mode='reflect') if size > 1 else x
        return F.conv2d(padded, weight, torch.cat([conv.bias for conv in convs]))


class MRRSpatialAttention(AttentionBranch):
    """MRR spatial attention (paper eq. 5-6): ``a = sigmoid(conv3x3(MRR(f)))``, N x 1 x H x W; returns ``a * f``."""

    def __init__(self, channels, kernel_sizes=(1, 3, 5, 7), paired_branches_below=16):
        super().__init__()
        self.inception = MultiReceptiveFieldFeatures(channels, kernel_sizes, paired_branches_below)
        self.out_block = nn.Sequential(ConvLayer(self.inception.out_channels, 1, 3), nn.Sigmoid())

    def forward(self, features):
        return self.gate(self.out_block(self.inception(features)), features)


class CBAMAttention(AttentionBranch):
    """CBAM (Woo et al., ECCV 2018) in place of the MRR branch, the MRRNet paper's "MRR-CBAM" comparison (Fig. 4).

    Channel gate: ``sigmoid(MLP(avgpool(f)) + MLP(maxpool(f)))`` (reduction 16); then spatial gate:
    ``sigmoid(BN(conv7x7([max_c(f'), mean_c(f')])))``. Returns the gated features; the spatial map is its map.
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.channel_mlp = nn.Sequential(
            nn.Flatten(), nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))
        self.spatial = nn.Sequential(nn.Conv2d(2, 1, 7, padding=3, bias=False), nn.BatchNorm2d(1))

    def forward(self, features):
        pooled = (self.channel_mlp(F.adaptive_avg_pool2d(features, 1)) +
                  self.channel_mlp(F.adaptive_max_pool2d(features, 1)))
        features = features * torch.sigmoid(pooled)[..., None, None]
        descriptor = torch.cat([features.amax(dim=1, keepdim=True), features.mean(dim=1, keepdim=True)], dim=1)
        return self.gate(torch.sigmoid(self.spatial(descriptor)), features)


@ARCH_REGISTRY.register()
class MRRNet(FaceSRSkeleton):
    """MRRNet generator (16x16 LR in [0, 1] -> 128x128 SR in [0, 1] with the defaults).

    Args:
        kernel_sizes (list[int]): Receptive fields of the attention branch; the paper's Table 3 compares
            {1, 3}, {5, 7}, {1, 7} and {1, 3, 5, 7} (default).
        attention (str): 'mrr' (default), 'none' for the "w/o SA" ablation (block output = shortcut + f), or
            'cbam' for MRR-CBAM (the attention branch replaced by CBAM).
        paired_branches_below (int): Speed device of the MRR branch (:class:`MultiReceptiveFieldFeatures`); the
            function is the same for any value. Default: 16.
        Other arguments: see :class:`~mrr_plugin.archs.face_sr_skeleton.FaceSRSkeleton` (``upscale``,
        ``in_size``, ``min_ch``, ``max_ch``, ``min_feat_size``, ``res_depth``, ``norm_type`` 'in', ``range_norm``,
        and the speed and memory devices ``inference_chunk`` and ``checkpoint_blocks``).
    """

    def __init__(self, kernel_sizes=(1, 3, 5, 7), attention='mrr', norm_type='in', paired_branches_below=16,
                 **skeleton_kwargs):
        kernel_sizes = tuple(kernel_sizes)
        factories = {
            'mrr': lambda channels, _hg_depth: MRRSpatialAttention(channels, kernel_sizes, paired_branches_below),
            'cbam': lambda channels, _hg_depth: CBAMAttention(channels),
            'none': lambda channels, _hg_depth: None,
        }
        if attention not in factories:
            raise ValueError(f"MRRNet attention must be one of {sorted(factories)}, got {attention!r}.")
        super().__init__(factories[attention], norm_type=norm_type, **skeleton_kwargs)
