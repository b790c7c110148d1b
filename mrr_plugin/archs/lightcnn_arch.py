"""Light CNN (Wu et al., "A Light CNN for Deep Face Representation with Noisy Labels", TIFS 2018), 9 layers: the
discriminator and the identity-feature extractor of DICGAN (Ma et al., CVPR 2020, Sec. 3.4, eq. 9-10).

Max-feature-map (MFM) activations: a conv (or linear) layer with twice the outputs, split in halves, element-wise
maximum. Same function and parameter names as DIC's ``code/networks/modules/light_cnn.py`` (``features.*``,
``classifier.*``), so their ``LightCNN_feature.pth`` and DICGAN discriminators load strictly.
"""
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from mrr_plugin.archs.dic_arch import DIC_RGB_MEAN


class MaxFeatureMap(nn.Module):
    """``max(first half, second half)`` of a conv (``kind='conv'``) or linear layer's outputs (their ``mfm``)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, kind='conv'):
        super().__init__()
        self.out_channels = out_channels
        if kind == 'conv':
            self.filter = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding)
        else:
            self.filter = nn.Linear(in_channels, 2 * out_channels)

    def forward(self, x):
        first, second = torch.split(self.filter(x), self.out_channels, 1)
        return torch.max(first, second)


class MaxFeatureMapGroup(nn.Module):
    """A 1x1 MFM then a ``kernel_size`` MFM (their ``group``)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1):
        super().__init__()
        self.conv_a = MaxFeatureMap(in_channels, in_channels, 1, 1, 0)
        self.conv = MaxFeatureMap(in_channels, out_channels, kernel_size, stride, padding)

    def forward(self, x):
        return self.conv(self.conv_a(x))


def lightcnn9_features():
    """The convolutional trunk: 128x128 RGB -> (128, 8, 8) (four ceil-mode max-pools)."""
    def pool():
        return nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)

    return nn.Sequential(MaxFeatureMap(3, 48, 5, 1, 2), pool(), MaxFeatureMapGroup(48, 96), pool(),
                         MaxFeatureMapGroup(96, 192), pool(), MaxFeatureMapGroup(192, 128),
                         MaxFeatureMapGroup(128, 128), pool())


class MeanSubtracted(nn.Module):
    """Faces in [0, 1] minus a fixed RGB mean (DIC's data convention by default)."""

    def __init__(self, input_mean=DIC_RGB_MEAN):
        super().__init__()
        self.register_buffer('input_mean', torch.tensor(input_mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)

    def subtract_mean(self, x):
        return x - self.input_mean.to(x.dtype)


@ARCH_REGISTRY.register()
class LightCNNDiscriminator(MeanSubtracted):
    """DICGAN's discriminator (their ``LightCNN_9Layers``): the trunk, an MFM linear layer 8192 -> 256, LeakyReLU 0.2,
    a linear score (a logit). Takes 128x128 faces in [0, 1]; ``input_mean`` is subtracted first, as the authors'
    faces were (their default init: PyTorch's)."""

    def __init__(self, input_mean=DIC_RGB_MEAN):
        super().__init__(input_mean)
        self.features = lightcnn9_features()
        self.classifier = nn.Sequential(MaxFeatureMap(8 * 8 * 128, 256, kind='linear'), nn.LeakyReLU(0.2, True),
                                        nn.Linear(256, 1))

    def forward(self, x):
        return self.classifier(self.features(self.subtract_mean(x)).flatten(1))


class LightCNNFeatures(MeanSubtracted):
    """The trunk alone (their ``LightCNNFeatureExtractor``): the identity features of DICGAN's feature loss."""

    def __init__(self, input_mean=DIC_RGB_MEAN):
        super().__init__(input_mean)
        self.features = lightcnn9_features()

    def forward(self, x):
        return self.features(self.subtract_mean(x))
