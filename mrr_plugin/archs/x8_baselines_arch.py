"""x8 versions of BasicSR's SRResNet and RRDBNet (ESRGAN's generator) for 16x16 -> 128x128 faces.

BasicSR 1.4.2's ``MSRResNet`` raises at ``upscale: 8`` and ``RRDBNet`` silently outputs x4. These variants add a
third x2 stage (``upconv3`` / ``conv_up3``) and keep every other layer and name of BasicSR's x4 model, so x4
weights load with ``strict_load_g: false`` (only the new stage starts from scratch).
"""
from basicsr.archs.arch_util import default_init_weights
from basicsr.archs.rrdbnet_arch import RRDBNet
from basicsr.archs.srresnet_arch import MSRResNet
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F


def _require_x8(upscale):
    if upscale != 8:
        raise ValueError(f'This x8 variant takes upscale 8, got {upscale}; use BasicSR\'s own class for x2-x4.')


@ARCH_REGISTRY.register()
class MSRResNetX8(MSRResNet):
    """BasicSR's MSRResNet (residual blocks without BN) with three x2 pixel-shuffle stages; bilinear global skip."""

    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=64, num_block=16, upscale=8):
        _require_x8(upscale)
        super().__init__(num_in_ch, num_out_ch, num_feat, num_block, upscale=4)
        self.upscale = upscale
        self.upconv3 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        default_init_weights(self.upconv3, 0.1)

    def forward(self, x):
        out = self.body(self.lrelu(self.conv_first(x)))
        for upconv in (self.upconv1, self.upconv2, self.upconv3):
            out = self.lrelu(self.pixel_shuffle(upconv(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        return out + F.interpolate(x, scale_factor=self.upscale, mode='bilinear', align_corners=False)


@ARCH_REGISTRY.register()
class RRDBNetX8(RRDBNet):
    """BasicSR's RRDBNet (ESRGAN generator) with three nearest-x2 + conv upsampling stages."""

    def __init__(self, num_in_ch=3, num_out_ch=3, scale=8, num_feat=64, num_block=23, num_grow_ch=32):
        _require_x8(scale)
        super().__init__(num_in_ch, num_out_ch, scale=4, num_feat=num_feat, num_block=num_block,
                         num_grow_ch=num_grow_ch)
        self.scale = scale
        self.conv_up3 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x):
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for conv_up in (self.conv_up1, self.conv_up2, self.conv_up3):
            feat = self.lrelu(conv_up(F.interpolate(feat, scale_factor=2, mode='nearest')))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))
