"""SPARNetHD's training recipe (Chen et al., TIP 2020, section III-C, eq. 15)."""
import torch
from basicsr.losses import build_loss
from basicsr.models.srgan_model import SRGANModel
from basicsr.utils.registry import MODEL_REGISTRY

from mrr_plugin.models.face_sr_model import AdversarialStepMixin


@MODEL_REGISTRY.register()
class SPARNetHDModel(AdversarialStepMixin, SRGANModel):
    """SRGANModel with a multi-scale discriminator and feature matching.

    G step: ``L_G = lambda_pix * L1 + lambda_adv * mean_s(-mean D_s(SR)) + lambda_FM * L_FM + lambda_pcp * L_VGG``
    (SPARNetHD: 100, 1, 10, 1; the adversarial term is BasicSR's hinge ``GANLoss``, the VGG term
    :class:`FacePerceptualLoss` with all layer weights 1, L_FM :class:`FeatureMatchingLoss`). D step:
    ``L_D = mean_s 0.5 * (hinge(D_s(HR), real) + hinge(D_s(SR), fake))``. ``network_d`` must return
    ``[(score, features), ...]`` per scale, as ``MultiScalePatchDiscriminator`` does; ``train.fm_opt`` configures
    the feature matching. Logs ``l_g_pix``, ``l_g_percep``, ``l_g_gan``, ``l_g_fm``, ``l_d``, ``out_d_real``,
    ``out_d_fake``.
    """

    def init_training_settings(self):
        fm_opt = self.opt['train'].get('fm_opt')
        self.cri_fm = build_loss(fm_opt).to(self.device) if fm_opt else None  # before the rest: guarded with them
        super().init_training_settings()

    def _mean_over_scales(self, results, target_is_real, is_disc):
        return sum(self.cri_gan(score, target_is_real, is_disc=is_disc) for score, _ in results) / len(results)

    def generator_adversarial_losses(self, loss_dict):
        fake_results = self.net_d(self.output)
        loss_dict['l_g_gan'] = self._mean_over_scales(fake_results, True, is_disc=False)
        if not self.cri_fm:
            return loss_dict['l_g_gan']
        with torch.no_grad():
            real_features = [features for _, features in self.net_d(self.gt)]
        loss_dict['l_g_fm'] = self.cri_fm([features for _, features in fake_results], real_features)
        return loss_dict['l_g_gan'] + loss_dict['l_g_fm']

    def discriminator_loss(self, loss_dict):
        real_results = self.net_d(self.gt)
        fake_results = self.net_d(self.output.detach())
        l_d_real = self._mean_over_scales(real_results, True, is_disc=True)
        l_d_fake = self._mean_over_scales(fake_results, False, is_disc=True)
        loss_dict['l_d'] = 0.5 * (l_d_real + l_d_fake)
        loss_dict['out_d_real'] = sum(score.detach().mean() for score, _ in real_results) / len(real_results)
        loss_dict['out_d_fake'] = sum(score.detach().mean() for score, _ in fake_results) / len(fake_results)
        return loss_dict['l_d']
