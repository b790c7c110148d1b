"""DIC: "Deep Face Super-Resolution with Iterative Collaboration between Attentive Recovery and Landmark
Estimation" (Ma et al., CVPR 2020).

An SR branch and a face-alignment branch improve each other over ``num_steps`` steps (Sec. 3.1, eq. 1-2): at step
``t`` the recurrent SR block takes the LR features, its own output of step ``t-1`` and the landmark heatmaps
estimated on the SR face of step ``t-1`` (attentive fusion, Sec. 3.2, eq. 3-4: the features are split into one
group per facial part and weighted by a softmax over the parts' heatmaps); the alignment branch (a recurrent
hourglass, Sec. 3.3) estimates the 68 landmarks' heatmaps on the new SR face, with its own hidden state. The
first step has no heatmaps and uses its own feedback block (the coarse SR). Training uses every step (eq. 6-8).

Same function and parameter names as the authors' ``code/networks/dic_arch.py`` and the blocks it uses
(github.com/Maclory/Deep-Iterative-Collaboration; ``train_DIC_CelebA.json``: 48 features, 6 groups, 4 steps,
hourglass of 256 features, 68 keypoints, 7 fusion blocks). Deviation in form only: the recurrent states (their
``block.last_hidden``/``should_reset`` attributes) are local variables of ``forward``, so the module keeps no
state between calls (batching, DDP and ``torch.compile`` see a plain function).
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torch.nn import functional as F

DIC_RGB_MEAN = (0.509, 0.424, 0.378)  # their data: Normalize(mean, std=1) on [0, 1] images
PRELU_INIT = 0.2  # their activation('prelu'): nn.PReLU(init=0.2)
# merge_heatmap_5: the landmark indices of left eye, right eye, nose, mouth and silhouette
PART_LANDMARKS = {
    68: (range(36, 42), range(42, 48), range(27, 36), range(48, 68), range(0, 27)),
    194: ([*range(134, 153), *range(174, 193)], [*range(114, 133), *range(154, 173)], range(41, 57), range(58, 113),
          range(0, 40)),
}


def conv_prelu(in_channels, out_channels, kernel_size, stride=1, padding=None):
    """Their ``ConvBlock(act_type='prelu', norm_type=None)``: conv (with bias) and PReLU (init 0.2)."""
    padding = (kernel_size - 1) // 2 if padding is None else padding
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.PReLU(init=PRELU_INIT))


def deconv_prelu(in_channels, out_channels, kernel_size, stride, padding):
    """Their ``DeconvBlock(act_type='prelu')``: transposed conv and PReLU (init 0.2)."""
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding),
                         nn.PReLU(init=PRELU_INIT))


def merge_part_heatmaps(heatmaps, detach=False):
    """The attention of the fusion block from the landmark heatmaps (their ``merge_heatmap_5``): each heatmap is
    divided by its maximum (at least 0.05), then summed over the landmarks of each of the five facial parts."""
    peak = heatmaps.amax(dim=(2, 3), keepdim=True).clamp(min=0.05)
    heatmaps = heatmaps / peak
    if heatmaps.shape[1] != 5:
        if heatmaps.shape[1] not in PART_LANDMARKS:
            raise ValueError(f'DIC merges 5, 68 or 194 landmark heatmaps, got {heatmaps.shape[1]}.')
        heatmaps = torch.stack([heatmaps[:, list(part)].sum(1) for part in PART_LANDMARKS[heatmaps.shape[1]]], dim=1)
    return heatmaps.detach() if detach else heatmaps


class GroupedResBlock(nn.Module):
    """``x + conv(LReLU(conv(x)))`` with grouped 3x3 convs (one group per facial part), held as ``.res``."""

    def __init__(self, channels, groups):
        super().__init__()
        self.res = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=groups),
                                 nn.LeakyReLU(0.2, inplace=True),
                                 nn.Conv2d(channels, channels, 3, padding=1, groups=groups))

    def forward(self, x):
        return x + self.res(x)


class AttentiveFusion(nn.Module):
    """Attentive fusion of features and heatmaps (Sec. 3.2, eq. 3-4; their ``FeatureHeatmapFusingBlock``): the
    features are widened to one group per part (1x1 conv, grouped residual blocks), and the groups are summed
    weighted by the softmax over the parts of the merged heatmaps."""

    def __init__(self, channels, num_parts, num_blocks):
        super().__init__()
        self.num_parts = num_parts
        width = channels * num_parts
        self.conv_in = nn.Sequential(nn.Conv2d(channels, width, 1), nn.LeakyReLU(0.2, inplace=True))
        self.resnet = nn.Sequential(*[GroupedResBlock(width, num_parts) for _ in range(num_blocks)])

    def forward(self, features, part_heatmaps):
        n, _, h, w = features.shape
        features = self.resnet(self.conv_in(features)).view(n, self.num_parts, -1, h, w)
        attention = F.softmax(part_heatmaps, dim=1).unsqueeze(2)
        return (features * attention).sum(1)


class FeedbackBlock(nn.Module):
    """The recurrent SR block of SRFBN (Li et al., CVPR 2019) that DIC builds on: ``num_groups`` projection groups
    (deconv up by 8, conv down by 8, each group fed all earlier groups' outputs through 1x1 convs), between a 1x1
    ``compress_in`` and a 1x1 ``compress_out``.

    ``in_channels`` is the width ``compress_in`` takes: the LR features alone (DIC's first block) or the LR
    features with the previous step's output (``2 * channels``). With ``num_parts`` the attentive fusion follows
    ``compress_in`` (DIC's block for the later steps).
    """

    def __init__(self, channels, num_groups, in_channels, num_parts=0, num_fusion_blocks=0):
        super().__init__()
        self.num_groups = num_groups
        self.compress_in = conv_prelu(in_channels, channels, 1)
        if num_parts:
            self.fusion_block = AttentiveFusion(channels, num_parts, num_fusion_blocks)
        self.upBlocks = nn.ModuleList([deconv_prelu(channels, channels, 12, 8, 2) for _ in range(num_groups)])
        self.downBlocks = nn.ModuleList([conv_prelu(channels, channels, 12, 8, 2) for _ in range(num_groups)])
        self.uptranBlocks = nn.ModuleList([conv_prelu(channels * (i + 1), channels, 1) for i in range(1, num_groups)])
        self.downtranBlocks = nn.ModuleList([conv_prelu(channels * (i + 1), channels, 1)
                                             for i in range(1, num_groups)])
        self.compress_out = conv_prelu(num_groups * channels, channels, 1)

    def forward(self, x, previous=None, part_heatmaps=None):
        x = self.compress_in(x if previous is None else torch.cat((x, previous), dim=1))
        if part_heatmaps is not None:
            x = self.fusion_block(x, part_heatmaps)
        lr_features, hr_features = [x], []
        for idx in range(self.num_groups):
            low = torch.cat(lr_features, 1)
            if idx > 0:
                low = self.uptranBlocks[idx - 1](low)
            hr_features.append(self.upBlocks[idx](low))
            high = torch.cat(hr_features, 1)
            if idx > 0:
                high = self.downtranBlocks[idx - 1](high)
            lr_features.append(self.downBlocks[idx](high))
        return self.compress_out(torch.cat(lr_features[1:], 1))


class BottleneckBlock(nn.Module):
    """Hourglass residual block without BatchNorm (their ``ResidualBlock(need_bn=False)``): 1x1 conv, ReLU, 3x3
    conv, 1x1 conv (no activation between the last two, as theirs), plus the input (1x1 conv if widths differ)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv_block = nn.Sequential(nn.Conv2d(in_channels, mid, 1), nn.ReLU(inplace=True),
                                        nn.Conv2d(mid, mid, 3, padding=1), nn.Conv2d(mid, out_channels, 1))
        self.skip_layer = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x):
        residual = self.conv_block(x)
        return (x if self.skip_layer is None else self.skip_layer(x)) + residual


class Hourglass(nn.Module):
    """Hourglass of ``depth`` levels (Newell et al., ECCV 2016): per level a residual block at the full size, a
    max-pooled path of residual blocks (the next level in between), bilinear (align_corners) upsampling, sum."""

    def __init__(self, depth, channels):
        super().__init__()
        self.depth = depth
        for level in range(depth, 0, -1):
            for part in (1, 2, 3):
                self.add_module(f'res{level}_{part}', BottleneckBlock(channels, channels))
        self.res_center = BottleneckBlock(channels, channels)

    def level(self, x, level):
        up = getattr(self, f'res{level}_1')(x)
        low = getattr(self, f'res{level}_2')(F.max_pool2d(x, 2, 2))
        low = self.level(low, level - 1) if level > 1 else self.res_center(low)
        low = getattr(self, f'res{level}_3')(low)
        return up + F.interpolate(low, scale_factor=2, mode='bilinear', align_corners=True)

    def forward(self, x):
        return self.level(x, self.depth)


class PointwiseConvReLU(nn.Module):
    """Their ``Lin(need_bn=False)``: 1x1 conv and ReLU, held as ``.conv_block``."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.conv_block(x)


class FeedbackHourglass(nn.Module):
    """The alignment branch (Sec. 3.3; their ``FeedbackHourGlass``): a stem to 1/4 of the SR size, then the
    features joined with the previous step's hidden features (the stem's own at the first step) by a 1x1 conv, an
    hourglass at twice the width whose first half gives the heatmaps and second half the next hidden state."""

    def __init__(self, num_features, num_keypoints):
        super().__init__()
        self.num_features = num_features
        self.pre_conv_block = nn.Sequential(
            nn.Conv2d(3, num_features // 4, 7, 2, 3), nn.ReLU(inplace=True),
            BottleneckBlock(num_features // 4, num_features // 2), nn.MaxPool2d(2, 2),
            BottleneckBlock(num_features // 2, num_features // 2), BottleneckBlock(num_features // 2, num_features))
        self.compress_in = nn.Conv2d(2 * num_features, 2 * num_features, 1)
        self.hg = Hourglass(4, 2 * num_features)
        self.hg_conv_out = nn.Sequential(
            BottleneckBlock(num_features, num_features), PointwiseConvReLU(num_features, num_features),
            nn.Conv2d(num_features, num_keypoints, 1))

    def forward(self, x, hidden=None):
        features = self.pre_conv_block(x)
        features = self.compress_in(torch.cat((features, features if hidden is None else hidden), dim=1))
        features = self.hg(features)
        return self.hg_conv_out(features[:, :self.num_features]), features[:, self.num_features:]


@ARCH_REGISTRY.register()
class DIC(nn.Module):
    """DIC generator (and DICGAN's): the 16x16 LR face in [0, 1] -> the 128x128 SR face in [0, 1].

    The authors subtract their RGB mean from LR and HR images (``data/HRLandmarkDataset.py``); the result of
    every step is the bilinear-upsampled input plus a predicted residual. ``forward(x)`` returns the last step's
    face; ``forward(x, all_outputs=True)`` returns ``(faces of every step, heatmaps of every step)`` (heatmaps at
    1/4 of the HR size, in the authors' scale: Gaussian peaks of height 1) for training.

    Args:
        num_features (int): SR-branch width (48).
        num_groups (int): Projection groups per feedback block (6).
        num_steps (int): Recurrent steps (4).
        hg_num_feature (int): Alignment-branch width (256).
        hg_num_keypoints (int): Landmarks (68; 194 for Helen's annotation).
        num_fusion_block (int): Residual blocks of the attentive fusion (7).
        detach_attention (bool): Stop the SR loss's gradient into the heatmaps through the attention (False).
    """

    def __init__(self, num_features=48, num_groups=6, num_steps=4, hg_num_feature=256, hg_num_keypoints=68,
                 num_fusion_block=7, detach_attention=False, upscale=8):
        super().__init__()
        if upscale != 8:
            raise ValueError(f'DIC is built for x8 (its feedback blocks project by 8), got upscale {upscale}.')
        self.upscale = upscale
        self.num_steps = num_steps
        self.detach_attention = detach_attention
        self.register_buffer('rgb_mean', torch.tensor(DIC_RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.conv_in = conv_prelu(3, 4 * num_features, 3)
        self.feat_in = nn.PixelShuffle(2)
        self.first_block = FeedbackBlock(num_features, num_groups, num_features)
        self.block = FeedbackBlock(num_features, num_groups, 2 * num_features, 5, num_fusion_block)
        self.out = deconv_prelu(num_features, num_features, 8, 4, 2)
        self.conv_out = nn.Sequential(nn.Conv2d(num_features, 3, 3, padding=1))
        self.HG = FeedbackHourglass(hg_num_feature, hg_num_keypoints)
        self.apply(init_weights)

    def forward(self, x, all_outputs=False):
        x = x - self.rgb_mean.to(x.dtype)
        upsampled = F.interpolate(x, scale_factor=self.upscale, mode='bilinear', align_corners=False)
        features = self.feat_in(self.conv_in(x))
        faces, heatmaps = [], []
        block_out = hg_hidden = None
        for step in range(self.num_steps):
            if step == 0:
                block_out = self.first_block(features)
            else:
                block_out = self.block(features, block_out, merge_part_heatmaps(heatmaps[-1], self.detach_attention))
            face = upsampled + self.conv_out(self.out(block_out))
            heatmap, hg_hidden = self.HG(face, hg_hidden)
            faces.append(face + self.rgb_mean.to(x.dtype))
            heatmaps.append(heatmap)
        return (faces, heatmaps) if all_outputs else faces[-1]


def init_weights(module):
    """The authors' ``init_weights(net, 'kaiming')``: every (transposed) conv Kaiming-normal (fan-in), zero bias."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.kaiming_normal_(module.weight, a=0, mode='fan_in')
        if module.bias is not None:
            nn.init.zeros_(module.bias)
