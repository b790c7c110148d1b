"""Discriminator feature matching (pix2pixHD; SPARNetHD, TIP 2020, section III-C, L_FM)."""
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn
from torch.nn import functional as F


@LOSS_REGISTRY.register()
class FeatureMatchingLoss(nn.Module):
    """``L_FM = loss_weight * mean over scales of sum over layers of L1(D_l(SR), D_l(HR))``, HR features detached.

    Args:
        loss_weight (float): lambda_FM (10 in SPARNetHD).
    Forward:
        fake_features, real_features (list[list[Tensor]]): per scale, the discriminator's intermediate features
            of the generated and of the real faces.
    """

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, fake_features, real_features):
        if len(fake_features) != len(real_features) or not fake_features:
            raise ValueError('fake_features and real_features need the same, non-zero number of scales.')
        total = 0
        for fake_scale, real_scale in zip(fake_features, real_features):
            total = total + sum(F.l1_loss(fake, real.detach()) for fake, real in zip(fake_scale, real_scale))
        return self.loss_weight * total / len(fake_features)
