"""Small helpers below every other layer: they import the standard library, numpy/cv2/torch/yaml/filelock and basicsr,
never a module of the plugin outside ``utils``."""
import importlib
from os import path as osp

from basicsr.utils import scandir


def import_modules_with_suffix(package_name, package_file, suffix):
    """Import every ``*<suffix>.py`` beside ``package_file`` as ``<package_name>.<module>``, in sorted order.

    BasicSR's registries are filled as a side effect; absolute names make each class register exactly once.
    """
    folder = osp.dirname(osp.abspath(package_file))
    names = sorted(osp.splitext(v)[0] for v in scandir(folder) if v.endswith(f'{suffix}.py'))
    return [importlib.import_module(f'{package_name}.{name}') for name in names]


def project_root():
    """Folder that holds ``experiments/``, ``tb_logger/`` and ``results/``.

    ``$MRR_PLUGIN_ROOT`` if set; else the source checkout that contains this package (it has ``options/``);
    else the current directory (a non-editable install).
    """
    import os
    if os.environ.get('MRR_PLUGIN_ROOT'):
        return osp.abspath(os.environ['MRR_PLUGIN_ROOT'])
    checkout = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir, osp.pardir))
    return checkout if osp.isdir(osp.join(checkout, 'options')) else os.getcwd()


def local_weights(file_name, path, needed_by, hint):
    """A pretrained-weights file: ``path`` if given, else torch hub's ``<hub dir>/checkpoints/<file_name>``.

    Nothing is ever downloaded: a missing file raises FileNotFoundError with one sentence saying what to put where.
    """
    import torch
    candidate = path or osp.join(torch.hub.get_dir(), 'checkpoints', file_name)
    if not osp.isfile(candidate):
        raise FileNotFoundError(f'{needed_by} needs {file_name}: put it at {candidate} ({hint}); nothing is '
                                'downloaded at run time.')
    return candidate


FACEXLIB_RELEASE = 'https://github.com/xinntao/facexlib/releases/download/v0.1.0'


def facexlib_weights(weights_dir, file_name, purpose):
    """Path of a facexlib weight file in ``weights_dir``; FileNotFoundError with one sentence when missing.

    facexlib's own loaders download missing weights from GitHub; callers check here first so they never do.
    """
    path = osp.join(weights_dir or '', file_name)
    if not weights_dir or not osp.isfile(path):
        folder = weights_dir or 'the folder given as --weights-dir'
        raise FileNotFoundError(f'{purpose} needs facexlib\'s {file_name}: download {FACEXLIB_RELEASE}/{file_name} on '
                                f'a machine with internet and put it in {folder}; nothing is downloaded at run time.')
    return path
