"""Relativistic average hinge GAN loss (MRRNet paper eq. 8-9)."""
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn
from torch.nn import functional as F


def rahinge_discriminator_loss(real_pred, fake_pred):
    """Eq. 8: ``E[max(0, 1 - (C(x_h) - E[C(x_g)]))] + E[max(0, 1 + (C(x_g) - E[C(x_h)]))]`` (means over all patches)."""
    return (F.relu(1 - (real_pred - fake_pred.mean())).mean() + F.relu(1 + (fake_pred - real_pred.mean())).mean())


def rahinge_generator_loss(real_pred, fake_pred):
    """Eq. 9: ``E[max(0, 1 + (C(x_h) - E[C(x_g)]))] + E[max(0, 1 - (C(x_g) - E[C(x_h)]))]``; both terms reach G."""
    return (F.relu(1 + (real_pred - fake_pred.mean())).mean() + F.relu(1 - (fake_pred - real_pred.mean())).mean())


@LOSS_REGISTRY.register()
class RaHingeGANLoss(nn.Module):
    """Relativistic average hinge loss for a patch discriminator ``C`` (real ``x_h``, generated ``x_g``).

    Unlike BasicSR's ``GANLoss(gan_type='hinge')`` used the ESRGAN way, whose generator term
    ``-mean(D(fake) - mean(D(real)))`` cancels to a constant for a relativistic average, this loss gives the
    generator a gradient through both terms of eq. 9.

    Args:
        loss_weight (float): Weight of the generator loss (lambda_G of eq. 11, 0.01 in the paper); as in
            BasicSR's GANLoss, the discriminator loss is never weighted.
        average_terms (bool): True (default) returns the mean of the two terms, as the authors' code does (half
            of eq. 8/9); False returns the sums exactly as printed in the paper.
    """

    def __init__(self, loss_weight=1.0, average_terms=True):
        super().__init__()
        self.loss_weight = loss_weight
        self.scale = 0.5 if average_terms else 1.0

    def forward(self, real_pred, fake_pred, is_disc):
        """``real_pred``/``fake_pred``: D's patch maps for the HR and SR batches; ``is_disc``: which loss (8 or 9)."""
        if is_disc:
            return self.scale * rahinge_discriminator_loss(real_pred, fake_pred)
        return self.loss_weight * self.scale * rahinge_generator_loss(real_pred, fake_pred)
