"""Learn the degradation first, then super-resolve (Bulat, Yang and Tzimiropoulos, ECCV 2018, sections 3.1-3.2)."""
from collections import OrderedDict

import torch
from basicsr.archs import build_network
from basicsr.losses import build_loss
from basicsr.models.base_model import BaseModel
from basicsr.models.sr_model import SRModel
from basicsr.utils.registry import MODEL_REGISTRY
from torch.nn import functional as F

from mrr_plugin.models.face_sr_model import FaceSRMixin

STAGES = ('joint', 'h2l', 'l2h')


@MODEL_REGISTRY.register()
class DegradationGANModel(FaceSRMixin, SRModel):
    """High-to-Low GAN + Low-to-High SR network on unpaired HR / real LR faces (``UnpairedFaceDataset``).

    Networks (option keys -> checkpoint names): ``network_h2l`` -> ``net_h2l`` (e.g. ``HighToLowGenerator``),
    ``network_l2h`` -> ``net_l2h`` (any registered SR generator: MRRNet, SPARNet, baselines), ``network_d_lr`` ->
    ``net_d_lr`` (``LRPatchDiscriminator``) and optionally ``network_d_hr`` -> ``net_d_hr`` (an HR discriminator
    returning a score map, e.g. ``MRRPatchDiscriminator``).

    Per iteration, with ``train.stages``:
      - 'joint' (default): an H2L step, a D_LR step, then an L2H step on the *detached* H2L output (and a D_HR step);
      - 'h2l': only H2L and D_LR;
      - 'l2h': only L2H (and D_HR), H2L frozen in eval mode (load it with ``path.pretrain_network_h2l``).
    Losses, both stages ``alpha * MSE + beta * hinge GAN`` (eq. 2-3 and 5; alpha 1, beta 0.05 in the public
    re-implementation): H2L: ``h2l_pixel_opt`` against the average-pooled HR face (keeps colours and layout) +
    ``h2l_gan_opt`` (D_LR: real LR faces vs. generated); L2H: ``l2h_pixel_opt`` against the HR face +
    ``l2h_gan_opt`` with D_HR. Optimisers ``optim_h2l``, ``optim_l2h``, ``optim_d_lr``, ``optim_d_hr``.

    Validation: with unpaired data, HR faces are degraded by H2L with a fixed noise vector (``val.noise_seed``) and
    restored by L2H (metrics compare with the HR face); with paired data (``lq``/``gt``), L2H is evaluated as any SR
    network. The L2H network is ``net_g`` for BasicSR's validation and test code.
    """

    def __init__(self, opt):
        BaseModel.__init__(self, opt)  # not SRModel's: there is no network_g
        self.train_opt = opt.get('train', {})
        self.stages = self.train_opt.get('stages', 'joint')
        if self.stages not in STAGES:
            raise ValueError(f'train.stages must be one of {STAGES}, got {self.stages!r}.')
        self.train_h2l = self.is_train and self.stages in ('joint', 'h2l')
        self.train_l2h = self.is_train and self.stages in ('joint', 'l2h')

        self.net_h2l = self._build('h2l', wrap=self.train_h2l)
        self.net_l2h = self._build('l2h', wrap=self.train_l2h or not self.is_train)
        self.net_g = self.net_l2h
        if self.is_train:
            self.net_d_lr = self._build('d_lr', wrap=self.train_h2l)
            self.net_d_hr = self._build('d_hr', wrap=self.train_l2h) if opt.get('network_d_hr') else None
            self.init_training_settings()

    def _build(self, name, wrap):
        """Build ``network_<name>``, move it to the device (DDP only when it trains) and load its pretrained file."""
        net = build_network(self.opt[f'network_{name}'])
        net = self.model_to_device(net) if wrap else net.to(self.device)
        self.print_network(net)
        path = self.opt['path'].get(f'pretrain_network_{name}')
        if path is not None:
            self.load_network(net, path, self.opt['path'].get(f'strict_load_{name}', True),
                              self.opt['path'].get(f'param_key_{name}', 'params'))
        return net

    def init_training_settings(self):
        train_opt = self.train_opt
        self.cri = {key[:-len('_opt')]: build_loss(train_opt[key]).to(self.device)
                    for key in ('h2l_pixel_opt', 'h2l_gan_opt', 'l2h_pixel_opt', 'l2h_gan_opt') if train_opt.get(key)}
        if self.train_h2l and not {'h2l_pixel', 'h2l_gan'} <= set(self.cri):
            raise ValueError('Training H2L needs train.h2l_pixel_opt and train.h2l_gan_opt.')
        if self.train_l2h and 'l2h_pixel' not in self.cri:
            raise ValueError('Training L2H needs train.l2h_pixel_opt.')
        if self.net_d_hr is not None and 'l2h_gan' not in self.cri:
            raise ValueError('network_d_hr needs train.l2h_gan_opt.')
        self.compile_if_asked(*[net for net, trained in ((self.net_h2l, self.train_h2l),
                                                         (self.net_l2h, self.train_l2h)) if trained])
        if not self.train_h2l:
            self._freeze(self.net_h2l)
        if not self.train_l2h:
            self._freeze(self.net_l2h)
        self.setup_optimizers()
        self.setup_schedulers()
        self.watch_losses_and_optimizers()

    def _freeze(self, net):
        net.eval()
        self.set_requires_grad(net, False)

    def setup_optimizers(self):
        trained = [('h2l', self.net_h2l, self.train_h2l), ('d_lr', self.net_d_lr, self.train_h2l),
                   ('l2h', self.net_l2h, self.train_l2h), ('d_hr', self.net_d_hr, self.train_l2h)]
        for name, net, used in trained:
            if used and net is not None:
                optim_opt = dict(self.train_opt[f'optim_{name}'])
                optimizer = self.get_optimizer(optim_opt.pop('type'), net.parameters(), **optim_opt)
                setattr(self, f'optimizer_{name}', optimizer)
                self.optimizers.append(optimizer)

    def feed_data(self, data):
        if 'hr' in data:  # UnpairedFaceDataset
            self.gt = data['hr'].to(self.device)
            self.real_lr = data['real_lr'].to(self.device)
            self.lq = None  # made by H2L in test()
        else:  # a paired set (PairedImageDataset)
            self.lq = data['lq'].to(self.device)
            if 'gt' in data:
                self.gt = data['gt'].to(self.device)

    def degrade(self, hr, noise_seed=None):
        """H2L's LR faces for ``hr`` in eval mode; ``noise_seed`` fixes z (default: ``val.noise_seed``, 0)."""
        net = self.get_bare_model(self.net_h2l)
        seed = self.opt.get('val', {}).get('noise_seed', 0) if noise_seed is None else noise_seed
        z = torch.randn(hr.shape[0], net.noise_dim, generator=torch.Generator().manual_seed(seed)).to(hr)
        was_training = net.training
        net.eval()
        with torch.no_grad():
            lr = net(hr, z)
        net.train(was_training)
        return lr

    def test(self):
        if self.lq is None:
            self.lq = self.degrade(self.gt)
        super().test()

    def _adversarial_step(self, loss_dict, prefix, generator_out, target, real, d_name):
        """G step on ``pixel(out, target) + gan(D(out))`` (eq. 3 / 5), then a hinge D step on ``real`` vs. out.

        ``prefix`` is 'h2l' or 'l2h' (losses ``<prefix>_pixel`` / ``<prefix>_gan``), ``d_name`` 'lr' or 'hr'.
        """
        net_d, optimizer_g = getattr(self, f'net_d_{d_name}'), getattr(self, f'optimizer_{prefix}')
        pixel, gan = f'{prefix}_pixel', f'{prefix}_gan'
        if net_d is not None:
            self.set_requires_grad(net_d, False)
        optimizer_g.zero_grad()
        with self.precision.autocast():
            loss_dict[f'l_{prefix}_pix'] = self.cri[pixel](generator_out, target)
            total = loss_dict[f'l_{prefix}_pix']
            if net_d is not None:
                loss_dict[f'l_{prefix}_gan'] = self.cri[gan](net_d(generator_out), True, is_disc=False)
                total = total + loss_dict[f'l_{prefix}_gan']
        self.precision.backward_step(total, optimizer_g)
        if net_d is None:
            return
        self.set_requires_grad(net_d, True)
        optimizer_d = getattr(self, f'optimizer_d_{d_name}')
        optimizer_d.zero_grad()
        with self.precision.autocast():
            real_pred, fake_pred = net_d(real), net_d(generator_out.detach())
            l_d = self.cri[gan](real_pred, True, is_disc=True) + self.cri[gan](fake_pred, False, is_disc=True)
        self.precision.backward_step(l_d, optimizer_d)
        loss_dict[f'l_d_{d_name}'] = l_d
        loss_dict[f'out_d_{d_name}_real'] = real_pred.detach().float().mean()
        loss_dict[f'out_d_{d_name}_fake'] = fake_pred.detach().float().mean()

    def optimize_parameters(self, current_iter):
        loss_dict = OrderedDict()
        hr = self.gt
        if self.train_h2l:
            scale = hr.shape[-1] // self.real_lr.shape[-1]
            with self.precision.autocast():
                self.fake_lr = self.net_h2l(hr).float()
            self._adversarial_step(loss_dict, 'h2l', self.fake_lr, F.avg_pool2d(hr, scale), self.real_lr, 'lr')
        else:
            with torch.no_grad(), self.precision.autocast():
                self.fake_lr = self.net_h2l(hr).float()
        if self.train_l2h:
            with self.precision.autocast():
                self.output = self.net_l2h(self.fake_lr.detach()).float()
            self._adversarial_step(loss_dict, 'l2h', self.output, hr, hr, 'hr')
        self.precision.update()
        self.log_dict = self.reduce_loss_dict(loss_dict)

    def save(self, epoch, current_iter):
        for name in ('h2l', 'l2h', 'd_lr', 'd_hr'):
            net = getattr(self, f'net_{name}', None)
            if net is not None:
                self.save_network(net, f'net_{name}', current_iter)
        self.save_training_state(epoch, current_iter)
