"""BasicSR's SRModel plus what face-SR users look at in TensorBoard: the learning rate and validation faces."""
from collections import OrderedDict
from os import path as osp

import torch
from basicsr.models.sr_model import SRModel
from basicsr.utils.dist_util import master_only
from basicsr.utils.registry import MODEL_REGISTRY
from torch.nn.parallel import DataParallel, DistributedDataParallel
from torchvision.utils import make_grid

from mrr_plugin.compat import atomic_torch_save
from mrr_plugin.models.nonfinite_guard import NonFiniteGuard, NonFiniteOutput, loss_modules
from mrr_plugin.utils.precision import MixedPrecision, autocast, check_precision, float32_inputs


class FaceSRMixin:
    """Additions shared by the face recipes, all through hooks BasicSR's models already call.

    - ``lr`` (generator's first group) next to the losses, so MessageLogger writes it to TensorBoard;
    - after each validation, a grid ``LR (nearest-upsampled) | SR | HR`` of the first ``val.tb_samples`` faces
      (default 4) as the TensorBoard image ``samples/<dataset>``;
    - EMA keeps buffers (BatchNorm running statistics, spectral-norm vectors) in step with the live network:
      BasicSR's ``model_ema`` averages parameters only, so an EMA of a BatchNorm net (SPARNet) would keep its
      initial statistics forever;
    - ``train.compile: true`` compiles the generator with torch.compile (inductor) in place: the same module,
      state dict and checkpoints, a faster training step after a few minutes of compilation at the start (and
      once more at the first validation). ``scripts/benchmark_speed.py`` measures the gain;
    - ``train.precision: bf16 | fp16`` runs each step's forward passes under autocast, losses in float32, with loss
      scaling for fp16 (:mod:`~mrr_plugin.utils.precision`); ``val.precision`` does the same for validation
      (default fp32);
    - a non-finite loss term or gradient stops training before the optimizer step takes it
      (:class:`~mrr_plugin.models.nonfinite_guard.NonFiniteGuard`), so no NaN weights are ever saved;
    - training states are written atomically and also hold ``training_state_extras`` (the training pipeline puts
      the generators' states and the data position there, for an exact resume);
    - CPU networks are wrapped for DDP without CUDA device ids, and validation calls the bare network (rank 0
      validates alone; the DDP wrapper's forward would broadcast buffers to ranks that never join).
    """

    training_state_extras = {}

    def init_training_settings(self):
        super().init_training_settings()
        self.compile_if_asked(self.net_g)
        self.watch_losses_and_optimizers()

    def watch_losses_and_optimizers(self):
        """Once every loss and optimizer exists: the non-finite guard, and the training precision (loss modules then
        take float32 inputs)."""
        self.nonfinite_guard = NonFiniteGuard(self)
        self.precision = MixedPrecision(self.opt['train'].get('precision', 'fp32'), self.device)
        if self.precision.precision != 'fp32':
            for _, module in loss_modules(self):
                module.register_forward_pre_hook(float32_inputs, with_kwargs=True)

    def update_learning_rate(self, current_iter, warmup_iter=-1):
        """BasicSR's pipeline calls this first in every iteration: the guard learns the iteration here."""
        if getattr(self, 'nonfinite_guard', None) is not None:
            self.nonfinite_guard.start(current_iter)
        super().update_learning_rate(current_iter, warmup_iter)

    def compile_if_asked(self, *nets):
        """With ``train.compile: true``, compile ``nets`` in place (the same modules, state dicts, checkpoints)."""
        if self.opt['train'].get('compile', False):
            for net in nets:
                self.get_bare_model(net).compile()

    def content_losses(self, loss_dict, prefix='l_g_'):
        """Sum of the configured pixel and perceptual (and style) losses of ``self.output`` vs ``self.gt``, logged
        in ``loss_dict`` as ``<prefix>pix`` / ``<prefix>percep`` / ``<prefix>style`` (SRModel's step uses ``l_``,
        the non-adversarial part of the GAN recipes ``l_g_``)."""
        total = 0
        if self.cri_pix:
            loss_dict[f'{prefix}pix'] = self.cri_pix(self.output, self.gt)
            total = total + loss_dict[f'{prefix}pix']
        if self.cri_perceptual:
            percep, style = self.cri_perceptual(self.output, self.gt)
            for name, value in (('percep', percep), ('style', style)):
                if value is not None:
                    loss_dict[f'{prefix}{name}'] = value
                    total = total + value
        return total

    def generator_losses(self, loss_dict, prefix='l_'):
        """The hook a recipe whose network gives more than the SR face overrides (SFMNet, DIC): run ``net_g`` on
        ``self.lq``, set ``self.output`` (the SR face) and return the generator's non-adversarial loss, each term
        logged in ``loss_dict`` under ``prefix``."""
        self.output = self.net_g(self.lq).float()
        return self.content_losses(loss_dict, prefix=prefix)

    @staticmethod
    def set_requires_grad(net, flag):
        """Freeze (False) or unfreeze a discriminator around the generator step."""
        for p in net.parameters():
            p.requires_grad = flag

    def model_to_device(self, net):
        """BasicSR's, except that DDP gets ``device_ids=None`` for a CPU network (upstream passes the current CUDA
        device, which fails without one)."""
        net = net.to(self.device)
        if self.opt['dist']:
            device_ids = [torch.cuda.current_device()] if self.device.type == 'cuda' else None
            return DistributedDataParallel(net, device_ids=device_ids,
                                           find_unused_parameters=self.opt.get('find_unused_parameters', False))
        return DataParallel(net) if self.opt['num_gpu'] > 1 else net

    @master_only
    def save_training_state(self, epoch, current_iter):
        """BasicSR's state (epoch, iteration, optimizers, schedulers) plus ``training_state_extras``, written
        atomically: a run killed while writing keeps the previous state whole."""
        if current_iter == -1:
            return
        state = {'epoch': epoch, 'iter': current_iter, 'optimizers': [o.state_dict() for o in self.optimizers],
                 'schedulers': [s.state_dict() for s in self.schedulers], **self.precision.state_dict(),
                 **self.training_state_extras}
        atomic_torch_save(state, osp.join(self.opt['path']['training_states'], f'{current_iter}.state'))

    def resume_training(self, resume_state):
        super().resume_training(resume_state)
        self.precision.load_state_dict(resume_state)

    def test(self):
        """SRModel's test on the bare network (or the EMA one), never the DDP wrapper, in ``val.precision``
        (default fp32); outside training, a non-finite output stops the test run (it is never scored)."""
        network = self.net_g_ema if hasattr(self, 'net_g_ema') else self.get_bare_model(self.net_g)
        was_training = network.training
        network.eval()
        precision = (self.opt.get('val') or {}).get('precision', 'fp32')
        check_precision(precision, self.device.type, 'val.precision')
        with torch.no_grad(), autocast(precision, self.device.type):
            self.output = network(self.lq).float()
        network.train(was_training)
        if not self.opt['is_train'] and not bool(torch.isfinite(self.output).all()):
            raise NonFiniteOutput(f'{self.opt["name"]}: network_g outputs non-finite values (NaN or infinity), so '
                                  'it is not scored; are its weights from a run that diverged?')

    def get_current_log(self):
        log = dict(super().get_current_log())
        log['lr'] = self.optimizers[0].param_groups[0]['lr']
        guard = getattr(self, 'nonfinite_guard', None)
        if guard is not None and guard.mode == 'skip':
            log['nonfinite_skips'] = guard.skipped
        return log

    def model_ema(self, decay=0.999):
        super().model_ema(decay)
        live_buffers = dict(self.get_bare_model(self.net_g).named_buffers())
        for name, buffer in self.net_g_ema.named_buffers():
            buffer.copy_(live_buffers[name])

    def nondist_validation(self, dataloader, current_iter, tb_logger, save_img):
        self._tb_samples = [] if tb_logger is not None else None
        try:
            super().nondist_validation(dataloader, current_iter, tb_logger, save_img)
            if self._tb_samples:
                grid = make_grid(torch.cat(self._tb_samples), nrow=3, padding=2)
                tb_logger.add_image(f'samples/{dataloader.dataset.opt["name"]}', grid.clamp(0, 1), current_iter)
        finally:
            self._tb_samples = None

    def get_current_visuals(self):
        visuals = super().get_current_visuals()
        samples = getattr(self, '_tb_samples', None)
        if samples is not None and len(samples) < 3 * self.opt['val'].get('tb_samples', 4) and 'gt' in visuals:
            size = visuals['gt'].shape[-2:]
            lq_up = torch.nn.functional.interpolate(visuals['lq'][:1], size=size, mode='nearest')
            samples.extend([lq_up, visuals['result'][:1], visuals['gt'][:1]])
        return visuals


class AdversarialStepMixin(FaceSRMixin):
    """The SRGAN-style iteration shared by the face GAN recipes (with BasicSR's ``SRGANModel``).

    A G step on ``generator_losses + generator_adversarial_losses`` (D frozen; after ``net_d_init_iters``, every
    ``net_d_iters``), then a D step on ``discriminator_loss``, then EMA. A recipe supplies only its two
    adversarial terms.
    """

    def generator_adversarial_losses(self, loss_dict):
        """The adversarial terms of L_G for ``self.output`` (logged in ``loss_dict``); returns their sum."""
        raise NotImplementedError

    def discriminator_loss(self, loss_dict):
        """L_D on ``self.gt`` and the detached ``self.output`` (logged in ``loss_dict``); returns it."""
        raise NotImplementedError

    def optimize_parameters(self, current_iter):
        loss_dict = OrderedDict()
        self.set_requires_grad(self.net_d, False)
        self.optimizer_g.zero_grad()
        with self.precision.autocast():
            if current_iter % self.net_d_iters == 0 and current_iter > self.net_d_init_iters:
                l_g = self.generator_losses(loss_dict, prefix='l_g_') + self.generator_adversarial_losses(loss_dict)
            else:
                self.output = self.net_g(self.lq).float()
                l_g = None
        if l_g is not None:
            self.precision.backward_step(l_g, self.optimizer_g)

        self.set_requires_grad(self.net_d, True)
        self.optimizer_d.zero_grad()
        with self.precision.autocast():
            l_d = self.discriminator_loss(loss_dict)
        self.precision.backward_step(l_d, self.optimizer_d)
        self.precision.update()

        self.log_dict = self.reduce_loss_dict(loss_dict)
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)


@MODEL_REGISTRY.register()
class FaceSRModel(FaceSRMixin, SRModel):
    """Pixel-loss face SR recipe (MRRNet, SPARNet, WFEN, baselines): SRModel's training step (``l_pix``, ``l_percep``,
    ``l_style``) in ``train.precision``, plus :class:`FaceSRMixin`; :meth:`generator_losses` is the hook of recipes
    whose networks give more than the SR face (SFMNet, DIC)."""

    def optimize_parameters(self, current_iter):
        loss_dict = OrderedDict()
        self.optimizer_g.zero_grad()
        with self.precision.autocast():
            l_total = self.generator_losses(loss_dict)
        self.precision.backward_step(l_total, self.optimizer_g)
        self.precision.update()
        self.log_dict = self.reduce_loss_dict(loss_dict)
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)
