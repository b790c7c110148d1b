"""SPARNetHD's multi-scale patch discriminator (Chen et al., TIP 2020, section III-C), usable from 128x128 up."""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import ConvLayer, init_weights
from mrr_plugin.archs.settled_spectral_norm import apply_spectral_norm


class PatchDiscriminatorScale(nn.Module):
    """One scale: conv3x3 3->64 + LReLU, ``num_layers`` x [stride-2 conv3x3 + norm + LReLU] (64->128->256->512->512),
    then an unpadded conv3x3 ->1 giving a score per patch. Returns ``(score map, [features of every layer])``.

    The unpadded score conv needs a feature map of at least 3x3; smaller maps (the coarsest scale of a 128x128
    face is 2x2) are replicate-padded by one pixel first, where the authors' network raises an error.
    """

    def __init__(self, num_in_ch=3, num_feat=64, max_feat=512, num_layers=4, norm_type='in'):
        super().__init__()
        layers = [ConvLayer(num_in_ch, num_feat, 3, activate=True)]
        for index in range(num_layers):
            in_feat, out_feat = min(num_feat * 2**index, max_feat), min(num_feat * 2**(index + 1), max_feat)
            layers.append(ConvLayer(in_feat, out_feat, 3, 'down', norm_type, activate=True))
        self.layers = nn.Sequential(*layers)
        self.score_conv = nn.Conv2d(out_feat, 1, 3)

    def forward(self, x):
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        if min(x.shape[-2:]) < self.score_conv.kernel_size[0]:
            x = F.pad(x, (1, 1, 1, 1), mode='replicate')
        return self.score_conv(x), features


@ARCH_REGISTRY.register()
class MultiScalePatchDiscriminator(nn.Module):
    """``num_scales`` patch discriminators on the image, its bicubic half, its quarter, ... (pix2pixHD style).

    The forward returns one ``(score map, features)`` pair per scale, finest first; the features feed
    SPARNetHD's feature-matching loss. Spectral norm on every conv as in the authors' SPARNetHD.

    Args:
        num_in_ch (int): Input channels. Default: 3.
        num_feat (int): Width of the first conv. Default: 64.
        max_feat (int): Width cap. Default: 512.
        num_layers (int): Stride-2 layers per scale. Default: 4.
        num_scales (int): Number of scales. Default: 3.
        norm_type (str): 'in' (default), 'bn' or 'none' for the stride-2 layers.
        spectral_norm (bool): Spectral norm on every conv. Default: True.
        range_norm (bool): Inputs in [0, 1] are mapped to [-1, 1] first (the authors' range). Default: True.
    """

    def __init__(self,
                 num_in_ch=3,
                 num_feat=64,
                 max_feat=512,
                 num_layers=4,
                 num_scales=3,
                 norm_type='in',
                 spectral_norm=True,
                 range_norm=True):
        super().__init__()
        self.range_norm = range_norm
        self.scales = nn.ModuleList(
            PatchDiscriminatorScale(num_in_ch, num_feat, max_feat, num_layers, norm_type) for _ in range(num_scales))
        self.apply(init_weights)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x):
        if self.range_norm:
            x = x * 2 - 1
        results = []
        for index, scale in enumerate(self.scales):
            if index > 0:
                x = F.interpolate(x, scale_factor=0.5, mode='bicubic', align_corners=False)
            results.append(scale(x))
        return results
