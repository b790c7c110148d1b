"""DIC's training step (Ma et al., CVPR 2020, eq. 6-8; their ``solvers/SRLandmarkSolver.py``)."""
from basicsr.losses import build_loss
from basicsr.utils.registry import MODEL_REGISTRY

from mrr_plugin.models.face_sr_model import FaceSRModel
from mrr_plugin.utils.checkpoint_file import load_checkpoint


@MODEL_REGISTRY.register()
class DICModel(FaceSRModel):
    """FaceSRModel with DIC's losses over every recurrent step:
    ``L = sum_t L1(SR_t, HR) + sum_t w_align MSE(H_t, H_gt)`` (their ``pixel`` l1 weight 1, ``align`` l2 weight 0.1).

    - ``train.pixel_opt``: the pixel loss of each step's face (logged ``l_pix``, the sum over steps);
    - ``train.heatmap_opt``: the heatmap loss of each step (``l_align``) against the ``heatmap`` of the batch
      (``FaceLandmarkDataset``: Gaussian peaks at the 68 landmarks, 1/4 of the HR size);
    - ``train.hourglass_frozen_iters``: the alignment branch (``net_g.HG``) is not updated in the first N iterations
      (their ``release_HG_grad_step``: 2,000; its gradients are dropped before the optimizer step, as their frozen
      parameters have none; the heatmap loss still trains the SR branch through it);
    - ``path.pretrain_network_hg``: the alignment branch's pre-trained weights (their ``HG_pretrained_path``,
      ``FB_HG_68_CelebA.pth``), loaded when ``pretrain_network_g`` is not given.

    The network must return ``(faces of every step, heatmaps of every step)`` for ``all_outputs=True`` (``DIC``).
    """

    def __init__(self, opt):
        super().__init__(opt)
        hg_path = self.opt['path'].get('pretrain_network_hg')
        if hg_path and not self.opt['path'].get('pretrain_network_g'):
            state = load_checkpoint(hg_path, what='path.pretrain_network_hg (the alignment branch, e.g. their '
                                    'FB_HG_68_CelebA.pth)')
            state = state.get('params', state) if isinstance(state, dict) else state
            self.get_bare_model(self.net_g).HG.load_state_dict(
                {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}, strict=True)

    def init_training_settings(self):
        train_opt = self.opt['train']
        heatmap_opt = train_opt.get('heatmap_opt')
        self.cri_heatmap = build_loss(heatmap_opt).to(self.device) if heatmap_opt else None
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

    def generator_losses(self, loss_dict):
        faces, heatmaps = self.net_g(self.lq, all_outputs=True)
        self.output = faces[-1].float()
        total = 0
        if self.cri_pix:
            loss_dict['l_pix'] = sum(self.cri_pix(face.float(), self.gt) for face in faces)
            total = total + loss_dict['l_pix']
        if self.cri_heatmap:
            if self.gt_heatmap is None:
                raise ValueError('train.heatmap_opt needs landmark heatmaps in the batch: use the FaceLandmarkDataset '
                                 'with a landmarks file for datasets.train.')
            loss_dict['l_align'] = sum(self.cri_heatmap(heatmap.float(), self.gt_heatmap) for heatmap in heatmaps)
            total = total + loss_dict['l_align']
        return total
