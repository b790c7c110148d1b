"""Discriminator of real vs. generated low-resolution faces (Bulat et al., ECCV 2018, section 3.1)."""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from mrr_plugin.archs.face_sr_skeleton import LEAKY_SLOPE, init_weights
from mrr_plugin.archs.settled_spectral_norm import apply_spectral_norm


@ARCH_REGISTRY.register()
class LRPatchDiscriminator(nn.Module):
    """Spectral-norm convs with LeakyReLU 0.2 and no normalisation layers: [conv3x3, conv3x3 stride 2] x
    ``num_downs`` doubling the width, then conv3x3 -> 1: a realism score per patch (4x4 for a 16x16 face).

    Args:
        num_in_ch (int): Input channels. Default: 3.
        num_feat (int): First width. Default: 64.
        num_downs (int): Stride-2 stages. Default: 2.
    """

    def __init__(self, num_in_ch=3, num_feat=64, num_downs=2):
        super().__init__()
        layers, channels = [], num_in_ch
        for index in range(num_downs):
            width = num_feat * 2**index
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
                       nn.Conv2d(width, width, 3, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE)]
            channels = width
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.apply(init_weights)
        apply_spectral_norm(self)

    def forward(self, x):
        return self.body(x)
