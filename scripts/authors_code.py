"""The authors' own code, imported from a checkout of theirs, for side-by-side measurements (never vendored).

github.com/SYLan2019/MRRNet and github.com/chaofengc/Face-SPARNet share one layout: packages ``models``, ``data``,
``utils`` and ``options`` at the checkout's top. ``benchmark_speed.py`` beside it times their generator and
``benchmark_training.py`` trains it with their initialisation, dataset class and loss.
"""
import importlib
import os.path as osp
import sys
import types

# the generator class inside each checkout: (module, class)
AUTHORS_CLASSES = {'MRRNet': ('models.MRRNet', 'MRRNet'), 'SPARNet': ('models.sparnet', 'SPARNet')}
_TOP_PACKAGES = ('models', 'data', 'utils', 'options')


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
    sys.path.insert(0, osp.abspath(folder))
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.pop(0)


def authors_network(name, folder, init=False):
    """The authors' generator ``name`` ('MRRNet' or 'SPARNet') built by their class with its defaults; with
    ``init=True`` also initialised by their ``models.networks.init_weights`` (N(0, 0.02) convs, as their
    ``define_network`` does before training)."""
    module_name, class_name = AUTHORS_CLASSES[name]
    net = getattr(import_authors_module(folder, module_name), class_name)()
    if init:
        import_authors_module(folder, 'models.networks').init_weights(net, init_type='normal', init_gain=0.02)
    return net


def authors_celeba_dataset(folder, hr_folder, scale=8, size=128):
    """Their training ``data.celeba_dataset.CelebADataset`` on ``hr_folder``: random flip and rescale, PIL
    bicubic down and up again, both tensors normalised to [-1, 1] (``{'LR': up(lr), 'HR': hr}``)."""
    module = import_authors_module(folder, 'data.celeba_dataset')
    opt = types.SimpleNamespace(dataroot=hr_folder, isTrain=True, load_size=size, scale_factor=scale)
    return module.CelebADataset(opt)
