"""What a training run needs to continue exactly where it stopped: the newest complete training state, and the
random generators' states stored in it.

Every state and checkpoint is read with ``weights_only=True`` (nothing in a file is ever run); a state whose network
files are missing or unreadable is passed over for the previous one; temporary files of killed writes are removed.
"""
import contextlib
import os
import random
import re
from os import path as osp

import numpy as np
import torch
from basicsr.utils.misc import check_resume

from mrr_plugin.utils.checkpoint_file import UnsafeOrBrokenFile, load_checkpoint  # noqa: F401 (re-exported)


def _state_iter(file_name):
    return int(float(file_name[:-len('.state')]))


# a training state is read as plain data like every checkpoint (BasicSR's scheduler states hold a
# ``collections.Counter``, which torch allows)
load_training_state = load_checkpoint


def newest_complete_state(training_states_dir, network_files=lambda iteration: ()):
    """``(path, state)`` of the newest ``<iter>.state`` in the folder that loads as plain data and whose network
    files (``network_files(iter)``) all load too, or ``(None, None)``; every candidate passed over is named in one
    line. The state is returned as loaded, so it is read once."""
    if not osp.isdir(training_states_dir):
        return None, None
    names = [n for n in os.listdir(training_states_dir) if n.endswith('.state')]
    for name in sorted(names, key=_state_iter, reverse=True):
        path = osp.join(training_states_dir, name)
        try:
            state = load_training_state(path)
            for network_file in network_files(_state_iter(name)):
                if not osp.isfile(network_file):
                    raise UnsafeOrBrokenFile(f'{network_file} of the same iteration is missing')
                load_training_state(network_file)
        except UnsafeOrBrokenFile as error:  # a crash of an older, non-atomic writer, a lost file, or not data
            print(f'Skipping training state {path}: {error}; trying the previous one.', flush=True)
            continue
        return path, state
    return None, None


def resumed_network_files(opt):
    """``iteration -> [models/net_<x>_<iteration>.pth]`` for the networks BasicSR reloads on resume."""
    ignored = opt['path'].get('ignore_resume_networks') or ()
    labels = [key[len('network_'):] for key in opt if key.startswith('network_') and key not in ignored]
    return lambda iteration: [osp.join(opt['path']['models'], f'net_{label}_{iteration}.pth') for label in labels]


STALE_TEMPORARY = re.compile(r'.+\.tmp\d+$')


def remove_stale_temporary_files(*folders):
    """Delete ``<file>.tmp<pid>`` files that killed atomic writes left behind (the files they were replacing are
    intact); returns how many went."""
    removed = 0
    for folder in folders:
        for name in os.listdir(folder) if osp.isdir(folder) else ():
            if STALE_TEMPORARY.match(name):
                try:
                    os.remove(osp.join(folder, name))
                    removed += 1
                except FileNotFoundError:  # another rank removed it first
                    pass
    return removed


def load_resume_state(opt):
    """The training state to resume from (``--auto_resume``: the newest complete one; else ``path.resume_state``)
    or None; temporary files of interrupted writes are removed first.

    Unlike ``basicsr.train.load_resume_state``: found under the experiment folder of the project root (not the
    current directory), loaded onto CPU with ``weights_only=True`` (upstream maps it to a CUDA device and unpickles
    anything), and an incomplete newest state is passed over.
    """
    removed = remove_stale_temporary_files(opt['path']['training_states'], opt['path']['models'])
    if removed:
        print(f'Removed {removed} temporary file(s) of interrupted checkpoint writes.', flush=True)
    resume_state = None
    if opt['auto_resume']:
        resume_state_path, resume_state = newest_complete_state(opt['path']['training_states'],
                                                                resumed_network_files(opt))
        if resume_state_path is not None:
            opt['path']['resume_state'] = resume_state_path
    elif opt['path'].get('resume_state'):
        resume_state_path = opt['path']['resume_state']
        if not osp.isfile(resume_state_path):
            raise FileNotFoundError(f'path.resume_state points to {resume_state_path}, which does not exist.')
        resume_state = load_training_state(resume_state_path)

    if resume_state is not None:
        check_resume(opt, resume_state['iter'])
    return resume_state


def capture_rng_states(cuda=True):
    """The states of Python's, numpy's and torch's global generators (and CUDA's, if ``cuda`` and available), as
    plain data a ``weights_only`` load accepts."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    states = {'python': random.getstate(), 'torch': torch.get_rng_state(),
              'numpy': [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gaussian]}
    if cuda and torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states):
    """Set the global generators to what :func:`capture_rng_states` returned."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached_gaussian = states['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@contextlib.contextmanager
def preserved_rng_states(cuda=True):
    """Run a block (a validation, loading a sample) without changing the global generators' states (CUDA's
    only if ``cuda``: a data loader worker must not touch CUDA). The states are kept as the generators give them
    (no conversion for storage: this runs once per training sample)."""
    python, numpy, cpu = random.getstate(), np.random.get_state(), torch.get_rng_state()
    devices = torch.cuda.get_rng_state_all() if cuda and torch.cuda.is_available() else None
    try:
        yield
    finally:
        random.setstate(python)
        np.random.set_state(numpy)
        torch.set_rng_state(cpu)
        if devices is not None:
            torch.cuda.set_rng_state_all(devices)
