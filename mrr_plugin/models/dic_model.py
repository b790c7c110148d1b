"""DIC's and DICGAN's training steps (Ma et al., CVPR 2020, eq. 6-10; their ``solvers/SRLandmarkSolver.py`` and
``SRLandmarkGANSolver.py``)."""
from basicsr.losses import build_loss
from basicsr.models.srgan_model import SRGANModel
from basicsr.utils.registry import MODEL_REGISTRY

from mrr_plugin.archs.reference_checkpoint import unwrap_state_dict
from mrr_plugin.models.face_sr_model import AdversarialStepMixin, FaceSRModel
from mrr_plugin.utils.checkpoint_file import load_checkpoint

PIXEL_STEPS = ('every', 'last')


class DICLossesMixin:
    """DIC's losses over the recurrent steps of a network returning ``(faces of every step, heatmaps of every
    step)`` for ``all_outputs=True`` (``DIC``):

    - ``train.pixel_opt``: the pixel loss, summed over the steps (logged ``<prefix>pix``); ``train.pixel_steps:
      last`` scores the last step's face once per step instead, as DICGAN's solver does (its loop scores
      ``self.SR``, the last face, at every step);
    - ``train.heatmap_opt``: the heatmap loss of every step (``<prefix>align``) against the ``heatmap`` of the
      batch (``FaceLandmarkDataset``: Gaussian peaks at the 68 landmarks, 1/4 of the HR size);
    - ``train.hourglass_frozen_iters``: the alignment branch (``net_g.HG``) is not updated in the first N
      iterations (their ``release_HG_grad_step``; its gradients are dropped before the optimizer step, as their
      frozen parameters have none; the heatmap loss still trains the SR branch through it);
    - ``path.pretrain_network_hg``: the alignment branch's pre-trained weights (their ``HG_pretrained_path``,
      ``FB_HG_68_CelebA.pth``), loaded when ``pretrain_network_g`` is not given.
    """

    def __init__(self, opt):
        super().__init__(opt)
        hg_path = self.opt['path'].get('pretrain_network_hg')
        if hg_path and not self.opt['path'].get('pretrain_network_g'):
            state = load_checkpoint(hg_path, what='path.pretrain_network_hg (the alignment branch, e.g. their '
                                    'FB_HG_68_CelebA.pth)')
            state = state.get('params', state) if isinstance(state, dict) else state
            self.get_bare_model(self.net_g).HG.load_state_dict(unwrap_state_dict(state), strict=True)

    def init_training_settings(self):
        train_opt = self.opt['train']
        heatmap_opt = train_opt.get('heatmap_opt')
        self.cri_heatmap = build_loss(heatmap_opt).to(self.device) if heatmap_opt else None
        self.pixel_steps = train_opt.get('pixel_steps', 'every')
        if self.pixel_steps not in PIXEL_STEPS:
            raise ValueError(f'train.pixel_steps must be one of {PIXEL_STEPS}, got {self.pixel_steps!r}.')
        self.hourglass_frozen_iters = int(train_opt.get('hourglass_frozen_iters', 0))
        self.current_iter = 0
        super().init_training_settings()
        hourglass = list(self.get_bare_model(self.net_g).HG.parameters())

        def drop_hourglass_gradients(optimizer, args, kwargs):
            if self.current_iter <= self.hourglass_frozen_iters:
                for parameter in hourglass:
                    parameter.grad = None

        self.optimizer_g.register_step_pre_hook(drop_hourglass_gradients)

    def feed_data(self, data):
        super().feed_data(data)
        self.gt_heatmap = data['heatmap'].to(self.device) if 'heatmap' in data else None

    def optimize_parameters(self, current_iter):
        self.current_iter = current_iter
        super().optimize_parameters(current_iter)

    def generator_losses(self, loss_dict, prefix='l_'):
        faces, heatmaps = self.net_g(self.lq, all_outputs=True)
        self.output = faces[-1].float()
        total = 0
        if self.cri_pix:
            scored = faces if self.pixel_steps == 'every' else [faces[-1]] * len(faces)
            loss_dict[f'{prefix}pix'] = sum(self.cri_pix(face.float(), self.gt) for face in scored)
            total = total + loss_dict[f'{prefix}pix']
        if self.cri_heatmap:
            if self.gt_heatmap is None:
                raise ValueError('train.heatmap_opt needs landmark heatmaps in the batch: use the FaceLandmarkDataset '
                                 'with a landmarks file for datasets.train.')
            loss_dict[f'{prefix}align'] = sum(self.cri_heatmap(heatmap.float(), self.gt_heatmap)
                                              for heatmap in heatmaps)
            total = total + loss_dict[f'{prefix}align']
        return total


@MODEL_REGISTRY.register()
class DICModel(DICLossesMixin, FaceSRModel):
    """DIC: ``L = sum_t L1(SR_t, HR) + sum_t w_align MSE(H_t, H_gt)`` (their ``pixel`` l1 weight 1, ``align`` l2
    weight 0.1); see :class:`DICLossesMixin`."""


@MODEL_REGISTRY.register()
class DICGANModel(DICLossesMixin, AdversarialStepMixin, SRGANModel):
    """DICGAN (Sec. 3.4): DIC's losses plus, on the last step's face, the identity-feature loss
    (``train.feature_opt``: :class:`~mrr_plugin.losses.lightcnn_feature_loss.LightCNNFeatureLoss`, weight 0.1) and
    the adversarial loss (``train.gan_opt``: BasicSR's vanilla ``GANLoss``, weight 0.005) of a Light CNN
    discriminator (``network_d: LightCNNDiscriminator``); D step: ``BCE(D(HR), real) + BCE(D(SR), fake)`` (their
    sum). Logs ``l_g_pix``, ``l_g_align``, ``l_g_feature``, ``l_g_gan``, ``l_d``, ``out_d_real``, ``out_d_fake``.
    """

    def init_training_settings(self):
        feature_opt = self.opt['train'].get('feature_opt')
        self.cri_feature = build_loss(feature_opt).to(self.device) if feature_opt else None
        super().init_training_settings()

    def generator_adversarial_losses(self, loss_dict):
        total = 0
        if self.cri_feature:
            loss_dict['l_g_feature'] = self.cri_feature(self.output, self.gt)
            total = total + loss_dict['l_g_feature']
        loss_dict['l_g_gan'] = self.cri_gan(self.net_d(self.output), True, is_disc=False)
        return total + loss_dict['l_g_gan']

    def discriminator_loss(self, loss_dict):
        real, fake = self.net_d(self.gt), self.net_d(self.output.detach())
        loss_dict['l_d'] = self.cri_gan(real, True, is_disc=True) + self.cri_gan(fake, False, is_disc=True)
        loss_dict['out_d_real'], loss_dict['out_d_fake'] = real.detach().mean(), fake.detach().mean()
        return loss_dict['l_d']
