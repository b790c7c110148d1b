"""High-to-Low generator: learns how real faces degrade (Bulat, Yang and Tzimiropoulos, ECCV 2018, section 3.1)."""
import math

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import init_weights


class ResidualUnit(nn.Module):
    """``x + conv3x3(ReLU(BN(conv3x3(ReLU(BN(x))))))`` (pre-activation, as the paper's ResNet units)."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(inplace=False), nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 3, padding=1, bias=False))

    def forward(self, x):
        return x + self.body(x)


def _stage(channels, num_units):
    return nn.Sequential(*[ResidualUnit(channels) for _ in range(num_units)])


@ARCH_REGISTRY.register()
class HighToLowGenerator(nn.Module):
    """HR face + noise -> realistic LR face (eq. 1: ``LR = G_H2L(HR, z)``), in [0, 1].

    ``z ~ N(0, I)`` (``noise_dim`` = 64) goes through a fully connected layer to a 1-channel map at the HR size,
    concatenated to the HR face as a 4th channel. The encoder halves the size with average pooling
    ``log2(scale) + 2`` times (x4: 64 -> 4, x8: 128 -> 4 ... for 16x16 LR), with ``num_units`` residual units at
    each size; the decoder doubles twice with pixel shuffle back to the LR size, adding the encoder's features at
    LR/2 and LR (the two skip connections). Output: ``(tanh(conv) + 1) / 2``.

    Args:
        num_in_ch (int): Image channels. Default: 3.
        num_feat (int): Width of every unit. Default: 64.
        hr_size (int): HR input size (the noise map's size). Default: 64.
        scale (int): HR / LR (a power of 2). Default: 4.
        noise_dim (int): Length of z. Default: 64.
        num_units (int): Residual units per size. Default: 2.
    """

    def __init__(self, num_in_ch=3, num_feat=64, hr_size=64, scale=4, noise_dim=64, num_units=2):
        super().__init__()
        if scale < 2 or scale & (scale - 1) or hr_size % (scale * 4):
            raise ValueError(f'scale must be a power of 2 and hr_size a multiple of 4 * scale; got {scale}, {hr_size}.')
        self.hr_size, self.scale, self.noise_dim = hr_size, scale, noise_dim
        self.noise_fc = nn.Linear(noise_dim, hr_size * hr_size)
        self.head = nn.Conv2d(num_in_ch + 1, num_feat, 3, padding=1)
        self.encoder = nn.ModuleList(_stage(num_feat, num_units) for _ in range(int(math.log2(scale)) + 3))
        self.decoder = nn.ModuleList(
            nn.Sequential(nn.Conv2d(num_feat, num_feat * 4, 3, padding=1), nn.PixelShuffle(2),
                          _stage(num_feat, num_units)) for _ in range(2))
        self.tail = nn.Sequential(nn.BatchNorm2d(num_feat), nn.ReLU(inplace=True),
                                  nn.Conv2d(num_feat, num_in_ch, 3, padding=1))
        self.apply(init_weights)

    def forward(self, hr, z=None):
        """``hr`` (N, 3, hr_size, hr_size) in [0, 1]; ``z`` (N, noise_dim), drawn from N(0, I) when None."""
        if hr.shape[-1] != self.hr_size or hr.shape[-2] != self.hr_size:
            raise ValueError(f'HighToLowGenerator expects {self.hr_size}x{self.hr_size} faces, got '
                             f'{tuple(hr.shape[-2:])}.')
        if z is None:
            z = torch.randn(hr.shape[0], self.noise_dim, device=hr.device, dtype=hr.dtype)
        noise_map = self.noise_fc(z).view(-1, 1, self.hr_size, self.hr_size)
        x = self.head(torch.cat([hr * 2 - 1, noise_map], dim=1))
        skips = []
        for index, stage in enumerate(self.encoder):
            if index > 0:
                x = F.avg_pool2d(x, 2)
            x = stage(x)
            skips.append(x)
        for stage, skip in zip(self.decoder, (skips[-2], skips[-3])):  # LR/2, then LR
            x = stage(x) + skip
        return (torch.tanh(self.tail(x)) + 1) / 2
