"""WFEN: "Efficient Face Super-Resolution via Wavelet-based Feature Enhancement Network" (Li et al., ACM MM 2024).

A U-shaped network at the HR size: the encoder downsamples with the wavelet feature downsampler (WFD, Sec. 3.2: a
Haar transform keeps the low-frequency band as the next level's input and sends the summed high-frequency bands
through a skip), the decoder upsamples with the wavelet feature upgrader (WFU, Sec. 3.3: the decoder features
replace the low-frequency band of the encoder's Haar transform, which is then inverted), and every level has
full-domain Transformers (FDT, Sec. 3.4: window self-attention over channels inside local windows, then
channel self-attention over the whole image).

Same function and parameter names as the authors' ``models/arch/wfen.py`` (github.com/PRIS-CV/WFEN), so their
checkpoints load with ``strict=True`` once the fixed Haar filters they store (``*.haar_weights``) are dropped
(``scripts/convert_reference_checkpoint.py --arch WFEN`` checks they are the Haar constants). Deviations in form
only: the Haar transforms are written as sums over 2x2 blocks (their grouped conv with fixed weights), the layer
norm is ``F.layer_norm`` over channels, and an FDT holds one window- and one channel-attention layer (their
``shared_depth`` is 1 throughout WFEN).
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

from mrr_plugin.archs.face_sr_skeleton import init_weights
from mrr_plugin.archs.pil_resize import PILBicubicUpsample

# their HaarWavelet filter bank (a, h, v, d), stored in their checkpoints for every channel
HAAR_FILTERS = torch.tensor([[[1., 1.], [1., 1.]], [[1., -1.], [1., -1.]],
                             [[1., 1.], [-1., -1.]], [[1., -1.], [-1., 1.]]])


def haar_transform(x):
    """One level of the 2-D Haar transform: ``(N, C, H, W) -> (N, 4C, H/2, W/2)``, bands ``[a, h, v, d]`` of all
    channels one after the other (their filter bank ``[[1, 1], [1, 1]]``, ``[[1, -1], [1, -1]]``,
    ``[[1, 1], [-1, -1]]``, ``[[1, -1], [-1, 1]]``, divided by 4)."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    x00, x01 = blocks[:, :, :, 0, :, 0], blocks[:, :, :, 0, :, 1]
    x10, x11 = blocks[:, :, :, 1, :, 0], blocks[:, :, :, 1, :, 1]
    bands = (x00 + x01 + x10 + x11, x00 - x01 + x10 - x11, x00 + x01 - x10 - x11, x00 - x01 - x10 + x11)
    return torch.cat(bands, dim=1) / 4


def inverse_haar_transform(x):
    """The inverse of :func:`haar_transform`: ``(N, 4C, H, W)`` bands ``[a, h, v, d]`` -> ``(N, C, 2H, 2W)``."""
    a, h, v, d = x.chunk(4, dim=1)
    n, c, height, width = a.shape
    top = torch.stack((a + h + v + d, a - h + v - d), dim=-1)
    bottom = torch.stack((a + h - v - d, a - h - v + d), dim=-1)
    return torch.stack((top, bottom), dim=3).reshape(n, c, 2 * height, 2 * width)


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of each pixel (their ``LayerNorm(dim, 'WithBias')``, eps 1e-5), held as
    ``.body`` like theirs."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.LayerNorm(channels, eps=1e-5)

    def forward(self, x):
        return self.body(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GatedFeedForward(nn.Module):
    """The FDT's feed-forward network: 1x1 conv to 2 x hidden, 3x3 depth-wise conv, ``GELU(x1) * x2``, 1x1 conv
    (their ``FeedForward``, expansion 2.66, no biases)."""

    def __init__(self, channels, expansion=2.66):
        super().__init__()
        hidden = int(channels * expansion)
        self.project_in = nn.Conv2d(channels, hidden * 2, 1, bias=False)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=False)
        self.project_out = nn.Conv2d(hidden, channels, 1, bias=False)

    def forward(self, x):
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)


class QKVAttention(nn.Module):
    """Query, key and value by a 1x1 then a 3x3 depth-wise conv, a learnt temperature, ReLU on the normalised
    similarities (not softmax), and an output 1x1 conv: the layers shared by WFEN's two self-attentions."""

    def __init__(self, channels):
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(1, 1, 1))
        self.qkv = nn.Conv2d(channels, channels * 3, 1, bias=False)
        self.qkv_dwconv = nn.Conv2d(channels * 3, channels * 3, 3, padding=1, groups=channels * 3, bias=False)
        self.project_out = nn.Conv2d(channels, channels, 1, bias=False)

    def queries_keys_values(self, x):
        return self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)


class WindowChannelAttention(QKVAttention):
    """Local branch of the FDT (their ``RSA``): inside each ``window x window`` window, attention between channels,
    ``A = ReLU(T * norm(q)^T norm(k))`` (C x C, q and k normalised over channels per pixel) and ``out = v A``.

    ``shift``: the windows are shifted by rolling the input by ``(-window) // 2`` pixels and the output back by
    ``window // 2``, the authors' arithmetic: for ``window == 1`` the output stays rolled by one pixel up and left,
    which their checkpoints were trained with.
    """

    def __init__(self, channels, window, shift):
        super().__init__(channels)
        self.window = window
        self.shift = shift

    def forward(self, x):
        n, c, h, w = x.shape
        ws = self.window
        if self.shift:
            x = torch.roll(x, shifts=((-ws) // 2, (-ws) // 2), dims=(2, 3))
        q, k, v = (t.reshape(n, c, h // ws, ws, w // ws, ws).permute(0, 2, 4, 3, 5, 1).reshape(n, -1, ws * ws, c)
                   for t in self.queries_keys_values(x))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attention = F.relu(q.transpose(-2, -1) @ k * self.temperature)  # (N, windows, C, C)
        out = (v @ attention).reshape(n, h // ws, w // ws, ws, ws, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h, w)
        if self.shift:
            out = torch.roll(out, shifts=(ws // 2, ws // 2), dims=(2, 3))
        return self.project_out(out)


class GlobalChannelAttention(QKVAttention):
    """Global branch of the FDT (their ``GSA``): multi-head attention between channels over all pixels,
    ``A = ReLU(T * norm(q) norm(k)^T)`` per head (q and k normalised over pixels); the heads' outputs are
    interleaved channel by channel before the output conv (their ``(head c) -> (c head)`` rearrangement)."""

    def __init__(self, channels, num_heads):
        super().__init__(channels)
        self.num_heads = num_heads

    def forward(self, x):
        n, c, h, w = x.shape
        q, k, v = (t.reshape(n, self.num_heads, c // self.num_heads, h * w) for t in self.queries_keys_values(x))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attention = F.relu(q @ k.transpose(-2, -1) * self.temperature)
        out = (attention @ v).reshape(n, self.num_heads, c // self.num_heads, h, w).transpose(1, 2)
        return self.project_out(out.reshape(n, c, h, w))


class FullDomainTransformer(nn.Module):
    """FDT (Sec. 3.4): a local then a global attention layer, each ``y = Attn(LN(x)); x = FFN(LN(y + x)) + y``.

    Module names are the authors' (``modules_*`` local, ``modulec_*`` global; ``norm_0`` before the attention,
    ``norm_2`` before the feed-forward network).
    """

    def __init__(self, channels, window, shift, num_heads):
        super().__init__()
        self.modules_att = nn.ModuleDict({'att_0': WindowChannelAttention(channels, window, shift)})
        self.modules_ffd = nn.ModuleDict({'ffd0': GatedFeedForward(channels)})
        self.modules_norm = nn.ModuleDict({'norm_0': ChannelLayerNorm(channels), 'norm_2': ChannelLayerNorm(channels)})
        self.modulec_att = nn.ModuleDict({'att_0': GlobalChannelAttention(channels, num_heads)})
        self.modulec_ffd = nn.ModuleDict({'ffd0': GatedFeedForward(channels)})
        self.modulec_norm = nn.ModuleDict({'norm_0': ChannelLayerNorm(channels), 'norm_2': ChannelLayerNorm(channels)})

    @staticmethod
    def layer(x, attention, feed_forward, norms):
        y = attention(norms['norm_0'](x))
        return feed_forward(norms['norm_2'](y + x)) + y

    def forward(self, x):
        x = self.layer(x, self.modules_att['att_0'], self.modules_ffd['ffd0'], self.modules_norm)
        return self.layer(x, self.modulec_att['att_0'], self.modulec_ffd['ffd0'], self.modulec_norm)


class WaveletDownsample(nn.Module):
    """WFD (Sec. 3.2): 1x1 conv to ``channels``, Haar transform; returns the low band ``a`` and ``h + v + d``."""

    def __init__(self, in_channels, channels):
        super().__init__()
        self.first_conv = nn.Conv2d(in_channels, channels, 1)

    def forward(self, x):
        a, h, v, d = haar_transform(self.first_conv(x)).chunk(4, dim=1)
        return a, h + v + d


class WaveletUpsample(nn.Module):
    """WFU (Sec. 3.3): from the encoder features ``x_big`` (2H) and the decoder features ``x_small`` (H):
    ``a, h, v, d = Haar(x_big)``; the inverse Haar transform of ``[RB(h + v + d), MLP([x_small, a])]`` (the MLP,
    two 1x1 convs, gives three bands), i.e. the four bands in the authors' order."""

    def __init__(self, channels, small_channels):
        super().__init__()
        self.RB = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                nn.Conv2d(channels, channels, 3, padding=1))
        self.channel_tranformation = nn.Sequential(  # (sic) the authors' name
            nn.Conv2d(channels + small_channels, channels + small_channels, 1), nn.ReLU(),
            nn.Conv2d(channels + small_channels, channels * 3, 1))

    def forward(self, x_big, x_small):
        a, h, v, d = haar_transform(x_big).chunk(4, dim=1)
        bands = torch.cat([self.RB(h + v + d), self.channel_tranformation(torch.cat([x_small, a], dim=1))], dim=1)
        return inverse_haar_transform(bands)


def _skip_mlp(channels):
    return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, channels, 1))


@ARCH_REGISTRY.register()
class WFEN(nn.Module):
    """WFEN generator: the 16x16 LR face in [0, 1] -> the 128x128 SR face in [0, 1].

    The authors feed the LR face PIL-bicubic upsampled to 128x128 as an 8-bit image and normalised to [-1, 1]
    (``data/celeba_dataset.py``), and train on [-1, 1] targets: ``ours(lr) == (theirs(2 * up(lr) - 1) + 1) / 2``.

    Args:
        upscale (int): 8 (default) upsamples the LR input inside as they did; 1 takes an upsampled face.
        in_size (int): HR size (128); the window sizes (8, 4, 2 ... ) must divide each level's size.
        min_ch (int): Width of the first level (40); the next two have 2x and 4x.
        res_depth (int): FDTs at the bottom level (6).
        range_norm (bool): Run the network on [-1, 1] as the authors (default True).
    """

    def __init__(self, upscale=8, in_size=128, min_ch=40, res_depth=6, range_norm=True):
        super().__init__()
        self.upscale = upscale
        self.range_norm = range_norm
        if upscale > 1:
            self.upsample = PILBicubicUpsample(upscale, in_size // upscale)
        c1, c2, c4 = min_ch, min_ch * 2, min_ch * 4
        self.first_conv = nn.Conv2d(3, c1, 3, padding=1)
        self.HaarDownsample1 = WaveletDownsample(c1, c2)
        self.HaarDownsample2 = WaveletDownsample(c2, c4)
        self.HaarDownsample3 = WaveletDownsample(c4, c4)
        fdt = FullDomainTransformer
        self.TransformerDown1 = nn.Sequential(fdt(c1, 8, False, 4), fdt(c1, 8, False, 4))
        self.TransformerDown2 = nn.Sequential(fdt(c2, 4, True, 4))
        self.TransformerDown3 = nn.Sequential(fdt(c4, 2, False, 8))
        self.RB1, self.RB2, self.RB3 = _skip_mlp(c2), _skip_mlp(c4), _skip_mlp(c4)
        self.Transformer0 = fdt(c4, 1, False, 8)
        self.Transformer = nn.Sequential(*[fdt(c4, 1, i % 2 == 0, 8) for i in range(res_depth - 1)])
        self.TransformerUp1 = nn.Sequential(fdt(c4, 8, True, 8))
        self.TransformerUp2 = nn.Sequential(fdt(c2, 4, False, 4))
        self.TransformerUp3 = nn.Sequential(fdt(c1, 2, True, 4), fdt(c1, 2, False, 4))
        self.HaarFeatureFusion1 = WaveletUpsample(c4, c4)
        self.HaarFeatureFusion2 = WaveletUpsample(c2, c4)
        self.HaarFeatureFusion3 = WaveletUpsample(c1, c2)
        self.out_conv = nn.Conv2d(c1, 3, 3, padding=1)
        self.apply(init_weights)  # their define_network: N(0, 0.02) convs, zero biases

    def forward(self, x):
        if self.upscale > 1:
            x = self.upsample(x)
        if self.range_norm:
            x = x * 2 - 1
        x_first = self.first_conv(x)
        # encoder
        x1 = self.TransformerDown1(x_first)
        x1_a, x1_hvd = self.HaarDownsample1(x1)
        x2 = self.TransformerDown2(x1_a) + self.RB1(x1_hvd)
        x2_a, x2_hvd = self.HaarDownsample2(x2)
        x3 = self.TransformerDown3(x2_a) + self.RB2(x2_hvd)
        x3_a, x3_hvd = self.HaarDownsample3(x3)
        # bottleneck
        x_trans = self.Transformer(self.Transformer0(x3_a)) + self.RB3(x3_hvd)
        # decoder
        x_up = self.TransformerUp1(self.HaarFeatureFusion1(x3, x_trans))
        x_up = self.TransformerUp2(self.HaarFeatureFusion2(x2, x_up))
        x_up = self.TransformerUp3(self.HaarFeatureFusion3(x1, x_up))
        out = self.out_conv(x_up + x_first)
        return (out + 1) / 2 if self.range_norm else out
