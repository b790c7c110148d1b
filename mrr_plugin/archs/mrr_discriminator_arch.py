"""MRRGAN's patch discriminator (ICANN 2022, section on MRRGAN), as in the authors' released code."""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn.utils import spectral_norm

from mrr_plugin.archs.face_sr_skeleton import LEAKY_SLOPE, init_weights
from mrr_plugin.archs.settled_spectral_norm import settle_spectral_norm


@ARCH_REGISTRY.register()
class MRRPatchDiscriminator(nn.Module):
    """Four [reflection pad 1 -> spectral-norm conv3x3 stride 2 (bias) -> LeakyReLU 0.2] blocks, 3->32->64->128->256,
    then reflection pad 1 -> conv3x3 256->1 (no bias, no spectral norm) -> tanh: one realism score per patch
    (1x8x8 for a 128x128 face). 390,720 parameters; parameter names as the authors' (``d1.0.1.weight_orig``...).

    Args:
        num_in_ch (int): Input channels. Default: 3.
        num_feat (int): Width of the first block (``conv_dim``). Default: 32.
        range_norm (bool): Inputs in [0, 1] are mapped to [-1, 1] first, as the authors' D saw them. Default: True.
    """

    def __init__(self, num_in_ch=3, num_feat=32, range_norm=True):
        super().__init__()
        self.range_norm = range_norm
        widths = [num_in_ch, num_feat, num_feat * 2, num_feat * 4, num_feat * 8]
        for index in range(4):
            conv = spectral_norm(nn.Conv2d(widths[index], widths[index + 1], 3, stride=2, bias=True))
            block = nn.Sequential(nn.ReflectionPad2d(1), conv, nn.LeakyReLU(LEAKY_SLOPE))
            self.add_module(f'd{index + 1}', nn.Sequential(block))
        self.d4_pred = nn.Sequential(nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(widths[-1], 1, 3, bias=False),
                                                   nn.Tanh()))
        self.apply(init_weights)
        settle_spectral_norm(self)

    def forward(self, x):
        if self.range_norm:
            x = x * 2 - 1
        return self.d4_pred(self.d4(self.d3(self.d2(self.d1(x)))))
