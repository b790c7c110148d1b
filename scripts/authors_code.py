"""The authors' own code, imported from a checkout of theirs, for side-by-side measurements (never vendored).

github.com/SYLan2019/MRRNet, github.com/chaofengc/Face-SPARNet and github.com/PRIS-CV/WFEN share one layout:
packages ``models``, ``data``, ``utils`` and ``options`` at the checkout's top; github.com/wcy-cs/SFMNet has
``models`` there too, github.com/Maclory/Deep-Iterative-Collaboration has ``networks`` under ``code/``.
``benchmark_speed.py`` beside it times their generator, ``benchmark_training.py`` trains it with their
initialisation, dataset class and loss, and the equivalence tests run it on fresh random weights.
"""
import importlib
import os.path as osp
import sys
import types

import torch

from mrr_plugin.archs.dic_arch import DIC_RGB_MEAN  # noqa: F401  (their data's mean; also read by the tests)

# the generator class inside each checkout: (module, class)
AUTHORS_CLASSES = {'MRRNet': ('models.MRRNet', 'MRRNet'), 'SPARNet': ('models.sparnet', 'SPARNet'),
                   'WFEN': ('models.arch.wfen', 'WFEN'), 'SFMNet': ('models.mynet', 'TwoBranch'),
                   'DIC': ('networks.dic_arch', 'DIC')}
# the checkout's name on GitHub, for messages and for the folder of checkouts the tests look into
AUTHORS_REPOSITORIES = {'MRRNet': 'SYLan2019/MRRNet', 'SPARNet': 'chaofengc/Face-SPARNet', 'WFEN': 'PRIS-CV/WFEN',
                        'SFMNet': 'wcy-cs/SFMNet', 'DIC': 'Maclory/Deep-Iterative-Collaboration'}
# their defaults: SFMNet's option.py (--model MYNET), DIC's train_DIC_CelebA.json "networks"
SFMNET_ARGS = dict(base_num_every_group=2, num_channels=3, num_features=64, act='PReLU')
DIC_NETWORK_OPTIONS = dict(in_channels=3, out_channels=3, num_features=48, num_steps=4, num_groups=6,
                           detach_attention=False, hg_num_feature=256, hg_num_keypoints=68, num_fusion_block=7, scale=8)
_TOP_PACKAGES = ('models', 'data', 'utils', 'options', 'networks', 'solvers', 'loss')


def code_root(folder):
    """Where the checkout's packages are: DIC keeps them under ``code/``."""
    return osp.join(folder, 'code') if osp.isdir(osp.join(folder, 'code', 'networks')) else folder


def import_authors_module(folder, module_name):
    """``module_name`` (e.g. 'models.MRRNet') from the checkout ``folder``.

    Both checkouts call their packages ``models``/``data``/``utils``, so those are dropped from ``sys.modules``
    first. ``imgaug``, which their dataset modules import but never use, is stood in by an empty module when it is
    not installed (it does not install beside today's numpy).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f"--authors-code: {folder} is not a folder (a checkout of the authors' code).")
    for loaded in [m for m in sys.modules if m.split('.')[0] in _TOP_PACKAGES]:
        del sys.modules[loaded]
    try:
        importlib.import_module('imgaug')
    except ImportError:
        stand_in = types.ModuleType('imgaug')
        stand_in.augmenters = types.ModuleType('imgaug.augmenters')
        sys.modules.update({'imgaug': stand_in, 'imgaug.augmenters': stand_in.augmenters})
    sys.path.insert(0, osp.abspath(code_root(folder)))
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.pop(0)


def authors_network(name, folder, init=False):
    """The authors' generator ``name`` (a key of ``AUTHORS_CLASSES``) built by their class with their defaults; with
    ``init=True`` also initialised as their training does (MRRNet, SPARNet, WFEN: ``models.networks.init_weights``,
    N(0, 0.02) convs; DIC: ``networks.init_weights(net, 'kaiming')``; SFMNet: PyTorch's default)."""
    module_name, class_name = AUTHORS_CLASSES[name]
    cls = getattr(import_authors_module(folder, module_name), class_name)
    if name == 'SFMNet':
        net = cls(types.SimpleNamespace(**SFMNET_ARGS))
    elif name == 'DIC':
        net = cls(DIC_NETWORK_OPTIONS, torch.device('cpu'))
    else:
        net = cls()
    if init and name == 'DIC':
        import_authors_module(folder, 'networks').init_weights(net, 'kaiming')
    elif init and name != 'SFMNet':
        import_authors_module(folder, 'models.networks').init_weights(net, init_type='normal', init_gain=0.02)
    return net


def authors_input(name, lr, upsample):
    """The authors' input for the LR faces ``lr`` (N, 3, 16, 16) in [0, 1]: ``upsample`` (ours, PIL-exact) to the HR
    size, in [-1, 1] (MRRNet, SPARNet, WFEN) or [0, 1] (SFMNet); DIC takes the LR minus its RGB mean."""
    if name == 'DIC':
        return lr - torch.tensor(DIC_RGB_MEAN, dtype=lr.dtype, device=lr.device).view(1, 3, 1, 1)
    up = upsample(lr)
    return up if name == 'SFMNet' else up * 2 - 1


def authors_outputs(name, net, their_input):
    """``{'sr': the SR face in [0, 1], ...}`` of their network on their input: SFMNet adds ``'fre'`` (the frequency
    branch's face), DIC ``'steps'`` (every step's face) and ``'heatmaps'`` (every step's)."""
    if name == 'SFMNet':
        out = net({'lr_up': their_input})
        return {'sr': out['img_out'], 'fre': out['img_fre']}
    if name == 'DIC':
        faces, heatmaps = net(their_input)
        mean = torch.tensor(DIC_RGB_MEAN, dtype=faces[-1].dtype, device=faces[-1].device).view(1, 3, 1, 1)
        steps = [face + mean for face in faces]
        return {'sr': steps[-1], 'steps': steps, 'heatmaps': heatmaps}
    return {'sr': (net(their_input) + 1) / 2}


def authors_celeba_dataset(folder, hr_folder, scale=8, size=128):
    """Their training ``data.celeba_dataset.CelebADataset`` on ``hr_folder``: random flip and rescale, PIL
    bicubic down and up again, both tensors normalised to [-1, 1] (``{'LR': up(lr), 'HR': hr}``)."""
    module = import_authors_module(folder, 'data.celeba_dataset')
    opt = types.SimpleNamespace(dataroot=hr_folder, isTrain=True, load_size=size, scale_factor=scale)
    return module.CelebADataset(opt)


# the archs whose authors' training benchmark_training.py reproduces (DIC needs landmark annotations)
TRAINABLE = ('MRRNet', 'SPARNet', 'WFEN', 'SFMNet')


def authors_loss(name, net, lr, hr, upsample):
    """Their training loss for LR/HR batches in [0, 1] (their data convention made by ``authors_input``):
    ``nn.L1Loss`` on [-1, 1] (MRRNet, SPARNet, WFEN: lambda_pix 1), SFMNet's ``main_two.py`` loss (L1 of both faces
    on [0, 1] + ``fft_weight`` 0.01 x (amplitude + phase L1 of the frequency branch's face))."""
    their_input = authors_input(name, lr, upsample)
    if name == 'SFMNet':
        return sfmnet_loss(net({'lr_up': their_input}), hr)
    return torch.nn.L1Loss()(net(their_input), hr * 2 - 1)


def sfmnet_loss(outputs, hr, fft_weight=0.01):
    """``main_two.py``'s ``train_model`` loss on their output dict and the HR batch in [0, 1]."""
    l1 = torch.nn.L1Loss()
    x, y = torch.fft.rfft2(outputs['img_fre'], norm='backward'), torch.fft.rfft2(hr, norm='backward')
    return (l1(outputs['img_out'], hr) + fft_weight * l1(torch.abs(x), torch.abs(y))
            + fft_weight * l1(torch.angle(x), torch.angle(y)) + l1(outputs['img_fre'], hr))


def authors_training_data(name, folder, hr_folder):
    """(their training dataset on ``hr_folder``, their loader's drop_last, batch -> their loss(net)): the
    Face-SPARNet family's ``CelebADataset`` (flip, rescale, PIL bicubic, [-1, 1]; MRRNet, SPARNet, WFEN) or
    SFMNet's ``data.dataset.Data`` (``HR`` and ``LR_bicubic`` folders beside each other, PIL bicubic x8, [0, 1]; their
    loader keeps the last batch)."""
    if name == 'SFMNet':
        module = import_authors_module(folder, 'data.dataset')
        dataset = module.Data(osp.dirname(osp.abspath(hr_folder)), types.SimpleNamespace(scale=8), train=True)
        return dataset, False, lambda net, data: sfmnet_loss(net({'lr_up': data['lr_up']}), data['img_gt'])
    return (authors_celeba_dataset(folder, hr_folder), True,
            lambda net, data: torch.nn.L1Loss()(net(data['LR']), data['HR']))  # their lambda_pix is 1
