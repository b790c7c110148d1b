"""SFMNet: "Spatial-Frequency Mutual Learning for Face Super-Resolution" (Wang et al., CVPR 2023).

Two U-shaped branches on the bicubic-upsampled face: a frequency branch of frequency blocks (Sec. 3.2, Fig. 3:
the features' Fourier amplitude and phase are each refined by two convs and the inverse transform goes back to
the image domain) and a spatial branch of residual groups, joined after every stage by a spatial-frequency fusion
block (Sec. 3.3: cross attention between the two, then sigmoid gates). Each branch ends in a conv that predicts a
residual on the upsampled input; the spatial branch's output is the SR face, the frequency branch's is trained too
(``img_fre``, the Fourier losses of eq. 9-10).

Same function and parameter names as the authors' ``models/mynet.py`` / ``models/common.py``
(github.com/wcy-cs/SFMNet, ``--model MYNET`` with their defaults: 64 features, PReLU, two residual blocks per
group). Deviations in form only: their fusion blocks hold a second attention layer (``spa_att``) that their
forward never calls; it is left out (it would be a parameter without gradient under DDP), and
``scripts/convert_reference_checkpoint.py --arch SFMNet`` drops its weights from their checkpoints. The Fourier
transforms run in float32 under autocast (float64 under ``net.double()``).
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.pil_resize import PILBicubicUpsample

STAGES = ('down1', 'down2', 'down3', 'neck', 'up1', 'up2', 'up3')


def _replace_nonfinite(x):
    """Their guard after every frequency and fusion block: NaN and +-inf become 1e-5."""
    return torch.nan_to_num(x, nan=1e-5, posinf=1e-5, neginf=1e-5)


class ConvAct(nn.Module):
    """Conv without bias, then an optional activation (their ``ConvBNReLU2D`` without norm): ``.layers``, ``.act``."""

    def __init__(self, in_channels, out_channels, kernel_size, act=None):
        super().__init__()
        self.layers = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False)
        self.act = {'PReLU': nn.PReLU, 'ReLU': nn.ReLU, None: nn.Identity}[act]()

    def forward(self, x):
        return self.act(self.layers(x))


class DownSample(nn.Module):
    """3x3 conv, pixel-unshuffle by 2, 1x1 conv back to the width (their ``DownSample``, no activation)."""

    def __init__(self, channels):
        super().__init__()
        self.layers = nn.Sequential(ConvAct(channels, channels, 3), nn.PixelUnshuffle(2),
                                    ConvAct(channels * 4, channels, 1))

    def forward(self, x):
        return self.layers(x)


def upsampler(channels):
    """Conv (with bias) to 4x the width, pixel-shuffle by 2, PReLU (their ``UpSampler(2, n)``)."""
    return nn.Sequential(nn.Conv2d(channels, channels * 4, 1), nn.PixelShuffle(2), nn.PReLU())


class ResBlock(nn.Module):
    """``ReLU(conv(ReLU(conv(x))) + x)``, convs without bias."""

    def __init__(self, channels):
        super().__init__()
        self.layers = nn.Sequential(ConvAct(channels, channels, 3, 'ReLU'), ConvAct(channels, channels, 3))

    def forward(self, x):
        return F.relu(self.layers(x) + x)


class ResidualGroup(nn.Module):
    """Spatial-branch block: residual blocks then a conv-PReLU, plus the input times a learnt scale (init 1)."""

    def __init__(self, channels, num_blocks, act='PReLU'):
        super().__init__()
        self.body = nn.Sequential(*[ResBlock(channels) for _ in range(num_blocks)], ConvAct(channels, channels, 3, act))
        self.re_scale = Scale()

    def forward(self, x):
        return self.body(x) + self.re_scale(x)


class Scale(nn.Module):
    """A learnt scalar factor (``.scale``)."""

    def __init__(self, init_value=1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([init_value]))

    def forward(self, x):
        return x * self.scale


class FrequencyBlock(nn.Module):
    """Frequency-branch block (their ``FreBlock9``, Sec. 3.2): with ``F = rfft2(conv1x1(x))``,
    ``A' = A + convs(A)``, ``P' = P + convs(P)`` on its amplitude and phase, and
    ``out = x + conv1x1(|irfft2(A' e^{iP'})|)`` (with their 1e-8 offsets and non-finite guard)."""

    def __init__(self, channels):
        super().__init__()
        self.fpre = nn.Conv2d(channels, channels, 1)
        self.amp_fuse = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(0.1, inplace=True),
                                      nn.Conv2d(channels, channels, 3, padding=1))
        self.pha_fuse = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(0.1, inplace=True),
                                      nn.Conv2d(channels, channels, 3, padding=1))
        self.post = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        h, w = x.shape[-2:]
        y = self.fpre(x)
        with torch.autocast(x.device.type, enabled=False):  # FFTs in float32 (float64 for float64)
            y = y if y.dtype == torch.float64 else y.float()
            spectrum = torch.fft.rfft2(y + 1e-8, norm='backward')
            amplitude, phase = spectrum.abs(), spectrum.angle()
            amplitude = self.amp_fuse(amplitude) + amplitude
            phase = self.pha_fuse(phase) + phase
            spectrum = torch.complex(amplitude * torch.cos(phase) + 1e-8, amplitude * torch.sin(phase) + 1e-8) + 1e-8
            y = torch.fft.irfft2(spectrum, s=(h, w), norm='backward').abs()
        return _replace_nonfinite(self.post(y) + x)


class CrossAttention(nn.Module):
    """Multi-head channel cross attention of the fusion block: queries from ``x``, keys and values from ``y``
    (1x1 + 3x3 depth-wise convs), ``softmax(T * norm(q) norm(k)^T) v`` per head (q, k normalised over pixels)."""

    def __init__(self, channels, num_heads=8):
        super().__init__()
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.kv = nn.Conv2d(channels, channels * 2, 1, bias=False)
        self.kv_dwconv = nn.Conv2d(channels * 2, channels * 2, 3, padding=1, groups=channels * 2, bias=False)
        self.q = nn.Conv2d(channels, channels, 1, bias=False)
        self.q_dwconv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.project_out = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x, y):
        n, c, h, w = x.shape
        k, v = self.kv_dwconv(self.kv(y)).chunk(2, dim=1)
        q = self.q_dwconv(self.q(x))
        q, k, v = (t.reshape(n, self.num_heads, c // self.num_heads, h * w) for t in (q, k, v))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attention = (q @ k.transpose(-2, -1) * self.temperature).softmax(dim=-1)
        return self.project_out((attention @ v).reshape(n, c, h, w))


class FusionBlock(nn.Module):
    """Spatial-frequency fusion (their ``FuseBlock7``, Sec. 3.3), called with ``(frequency, spatial)`` features.

    ``s = conv_spa(frequency)``, ``f = conv_fre(spatial)`` (the authors' layer names), ``f += CA(f, s)``,
    ``s += CA(s, f)`` with one cross attention (``fre_att``) for both, ``[g_f, g_s] = sigmoid(conv(conv([f, s])))``,
    output ``g_f f + g_s s``.
    """

    def __init__(self, channels):
        super().__init__()
        self.fre = nn.Conv2d(channels, channels, 3, padding=1)
        self.spa = nn.Conv2d(channels, channels, 3, padding=1)
        self.fre_att = CrossAttention(channels)
        self.fuse = nn.Sequential(nn.Conv2d(2 * channels, channels, 3, padding=1),
                                  nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.Sigmoid())

    def forward(self, frequency, spatial):
        fre = self.fre(spatial)
        spa = self.spa(frequency)
        fre = self.fre_att(fre, spa) + fre
        spa = self.fre_att(spa, fre) + spa
        fre_gate, spa_gate = self.fuse(torch.cat((fre, spa), 1)).chunk(2, dim=1)
        return _replace_nonfinite(fre * fre_gate + spa * spa_gate)


@ARCH_REGISTRY.register()
class SFMNet(nn.Module):
    """SFMNet generator: the 16x16 LR face in [0, 1] -> the 128x128 SR face in [0, 1].

    The authors feed the LR face PIL-bicubic upsampled to 128x128 as an 8-bit image, in [0, 1]
    (``data/dataset.py``), and both branches add their residual to it. ``forward(x)`` returns the SR face
    (``img_out``); ``forward(x, all_outputs=True)`` returns ``(img_out, img_fre)`` for training (through the DDP
    wrapper's forward).

    Args:
        upscale (int): 8 (default) upsamples the LR input inside as they did; 1 takes an upsampled face.
        in_size (int): HR size (128).
        num_features (int): Width of every stage (64).
        num_blocks (int): Residual blocks per spatial group (their ``base_num_every_group``, 2).
    """

    def __init__(self, upscale=8, in_size=128, num_features=64, num_blocks=2):
        super().__init__()
        self.upscale = upscale
        if upscale > 1:
            self.upsample = PILBicubicUpsample(upscale, in_size // upscale)
        c = num_features
        self.head_fre = nn.Sequential(ConvAct(3, c, 3, 'PReLU'))
        self.head = nn.Sequential(ConvAct(3, c, 3, 'PReLU'))

        def resampling(stage):  # a fresh layer per branch: down / up stages begin with one
            return [DownSample(c)] if stage.startswith('down') else [upsampler(c)] if stage.startswith('up') else []

        for stage in STAGES:
            setattr(self, f'{stage}_fre', nn.Sequential(*resampling(stage), FrequencyBlock(c)))
            setattr(self, f'{stage}_fre_mo', nn.Sequential(FrequencyBlock(c)))
            setattr(self, stage, nn.Sequential(*resampling(stage), ResidualGroup(c, num_blocks)))
            setattr(self, f'{stage}_mo', nn.Sequential(ResidualGroup(c, num_blocks)))
        self.tail_fre = nn.Sequential(ConvAct(c, 3, 3, 'PReLU'))
        self.tail = nn.Sequential(ConvAct(c, 3, 3, 'PReLU'))
        self.conv_fuse = nn.Sequential(*[FusionBlock(c) for _ in range(2 * len(STAGES))])

    @staticmethod
    def _skip(index, levels):
        """The U-net skip added after the second block of stage ``index``: neck <- down3, up1 <- down2,
        up2 <- down1, up3 <- the head (``levels`` = [head, down1, down2, down3] outputs)."""
        return levels[len(STAGES) - 1 - index] if index >= 3 else None

    def frequency_branch(self, x):
        """Returns the branch's residual and, per stage, the outputs of its two blocks (the fusion inputs)."""
        levels, stage_outputs = [self.head_fre(x)], []
        features = levels[0]
        for index, stage in enumerate(STAGES):
            first = getattr(self, f'{stage}_fre')(features)
            features = getattr(self, f'{stage}_fre_mo')(first)
            skip = self._skip(index, levels)
            features = features + skip if skip is not None else features
            levels.append(features)
            stage_outputs.append((first, features))
        return self.tail_fre(features), stage_outputs

    def spatial_branch(self, x, frequency_outputs):
        levels = [self.head(x)]
        features = levels[0]
        for index, (stage, (fre_first, fre_second)) in enumerate(zip(STAGES, frequency_outputs)):
            features = self.conv_fuse[2 * index](fre_first, getattr(self, stage)(features))
            second = getattr(self, f'{stage}_mo')(features)
            skip = self._skip(index, levels)
            second = second + skip if skip is not None else second
            levels.append(second)
            features = self.conv_fuse[2 * index + 1](fre_second, second)
        return self.tail(features)

    def forward(self, x, all_outputs=False):
        if self.upscale > 1:
            x = self.upsample(x)
        frequency_residual, frequency_outputs = self.frequency_branch(x)
        sr = self.spatial_branch(x, frequency_outputs) + x
        return (sr, frequency_residual + x) if all_outputs else sr
