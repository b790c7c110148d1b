"""MRRGAN's training recipe (MRRNet paper eq. 11): L1 + relativistic average hinge GAN + VGG perceptual loss."""
from basicsr.models.srgan_model import SRGANModel
from basicsr.utils.registry import MODEL_REGISTRY

from mrr_plugin.models.face_sr_model import AdversarialStepMixin


@MODEL_REGISTRY.register()
class MRRGANModel(AdversarialStepMixin, SRGANModel):
    """SRGANModel with a relativistic discriminator: only the adversarial terms differ.

    Per iteration (after ``net_d_init_iters``, every ``net_d_iters``) a G step on
    ``L_total = lambda_pix * L1 + lambda_G * L_G + lambda_per * L_per`` (eq. 11; the weights are the losses'
    ``loss_weight`` / ``perceptual_weight``; paper: 1, 0.01, 0.01), then a D step on real and detached fake with
    ``L_D``. ``gan_opt`` must be a relativistic loss taking ``(real_pred, fake_pred, is_disc)`` such as
    ``RaHingeGANLoss``. Logs ``l_g_pix``, ``l_g_percep``, ``l_g_gan``, ``l_d``, ``out_d_real``, ``out_d_fake``.
    """

    def generator_adversarial_losses(self, loss_dict):
        real_pred = self.net_d(self.gt).detach()
        fake_pred = self.net_d(self.output)
        loss_dict['l_g_gan'] = self.cri_gan(real_pred, fake_pred, is_disc=False)  # eq. 9
        return loss_dict['l_g_gan']

    def discriminator_loss(self, loss_dict):
        real_pred = self.net_d(self.gt)
        fake_pred = self.net_d(self.output.detach())
        loss_dict['l_d'] = self.cri_gan(real_pred, fake_pred, is_disc=True)  # eq. 8
        loss_dict['out_d_real'] = real_pred.detach().mean()
        loss_dict['out_d_fake'] = fake_pred.detach().mean()
        return loss_dict['l_d']
