"""SPARNet: "Learning Spatial Attention for Face Super-Resolution" (Chen et al., TIP 2020).

The MRRNet skeleton with SPARNet's Face Attention Units: the attention branch is a small hourglass. Same function
and parameter names as the authors' released generator (10,518,867 parameters by default; SPARNet-Light,
``res_depth: 1, attention: spar3d``, 5,242,211). SPARNetHD (section III-C) is this class with ``upscale: 1,
in_size: 512, max_ch: 512, min_feat_size: 32, norm_type: in, spectral_norm: true`` (85,793,412 parameters).
"""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import AttentionBranch, ConvLayer, FaceSRSkeleton


class HourglassAttention(AttentionBranch):
    """Attention branch of the Face Attention Unit (SPARNet Fig. 3, eq. 3-4): ``a = sigmoid(conv(HG(f)))``; returns a*f.

    Hourglass level L: ``b1 = conv3x3-norm-LReLU(x)``; ``b2 = stride-2 conv3x3-norm-LReLU(x)`` followed by level
    L - 1 (at the bottom one more conv3x3-norm-LReLU, ``b2_plus_1``); ``b3 = nearest-up + conv3x3-norm-LReLU``;
    output ``b1 + b3``. All inner features have ``mid_channels`` (64). ``out_channels`` is 1 for 'spar' and C for
    the '3D attention' of SPARNet-Light.
    """

    def __init__(self, depth, channels, out_channels=1, mid_channels=64, norm_type='bn'):
        super().__init__()
        if depth < 1:
            raise ValueError(f'Hourglass depth must be >= 1, got {depth}.')
        self.depth = depth
        for level in range(depth, 0, -1):
            in_channels = channels if level == depth else mid_channels
            self.add_module(f'b1_{level}', ConvLayer(in_channels, mid_channels, 3, 'none', norm_type, activate=True))
            self.add_module(f'b2_{level}', ConvLayer(in_channels, mid_channels, 3, 'down', norm_type, activate=True))
            self.add_module(f'b3_{level}', ConvLayer(mid_channels, mid_channels, 3, 'up', norm_type, activate=True))
        self.b2_plus_1 = ConvLayer(mid_channels, mid_channels, 3, 'none', norm_type, activate=True)
        self.out_block = nn.Sequential(ConvLayer(mid_channels, out_channels, 3), nn.Sigmoid())

    def hourglass(self, x, level):
        skip = getattr(self, f'b1_{level}')(x)
        low = getattr(self, f'b2_{level}')(x)
        low = self.hourglass(low, level - 1) if level > 1 else self.b2_plus_1(low)
        up = getattr(self, f'b3_{level}')(low)
        if up.shape[2:] != skip.shape[2:]:  # odd sizes
            up = F.interpolate(up, skip.shape[2:])
        return skip + up

    def forward(self, features):
        return self.gate(self.out_block(self.hourglass(features, self.depth)), features)


@ARCH_REGISTRY.register()
class SPARNet(FaceSRSkeleton):
    """SPARNet generator (16x16 LR in [0, 1] -> 128x128 SR in [0, 1] with the defaults).

    Args:
        attention (str): 'spar' (1-channel spatial map, default), 'spar3d' (C-channel map, SPARNet-Light) or
            'none'.
        norm_type (str): 'bn' (default, as the authors) or 'in'.
        mid_channels (int): Hourglass width. Default: 64.
        Other arguments: see :class:`~mrr_plugin.archs.face_sr_skeleton.FaceSRSkeleton`.
    """

    def __init__(self, attention='spar', norm_type='bn', mid_channels=64, **skeleton_kwargs):
        factories = {
            'spar': lambda channels, depth: HourglassAttention(depth, channels, 1, mid_channels, norm_type),
            'spar3d': lambda channels, depth: HourglassAttention(depth, channels, channels, mid_channels, norm_type),
            'none': lambda channels, depth: None,
        }
        if attention not in factories:
            raise ValueError(f'SPARNet attention must be one of {sorted(factories)}, got {attention!r}.')
        super().__init__(factories[attention], norm_type=norm_type, **skeleton_kwargs)
