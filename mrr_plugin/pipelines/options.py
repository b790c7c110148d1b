"""Command line and option file of the train and test entry points, read safely.

The same command line and the same option dict as BasicSR's ``parse_options`` (``-opt``, ``--launcher``,
``--auto_resume``, ``--debug``, ``--local_rank``, ``--force_yml``; ``dist``, ``rank``, ``world_size``,
``manual_seed``, the ``path`` entries of the experiment or results folder), but the file is read with
:func:`~mrr_plugin.utils.option_file.load_option_file` (BasicSR's loader constructs any Python object the file
names, and its ``--force_yml`` handling ``exec``-s and ``eval``-s the command line).
"""
import argparse
import contextlib
import random
import sys
from os import path as osp

import torch
from basicsr.utils import set_random_seed
from basicsr.utils.dist_util import get_dist_info

from mrr_plugin.pipelines.option_check import CHECK_DATA
from mrr_plugin.utils.distributed import init_dist
from mrr_plugin.utils.option_file import apply_force_yml, load_option_file
from mrr_plugin.utils.run_lock import FolderLock


def option_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument('-opt', type=str, required=True, help='Path to option YAML file.')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--auto_resume', action='store_true')
    parser.add_argument('--debug', action='store_true')
    parser.add_argument('--local_rank', type=int, default=0)
    parser.add_argument(
        '--force_yml', nargs='+', default=None, help='Force to update yml files. Examples: train:ema_decay=0.999')
    parser.add_argument('--check-data', choices=CHECK_DATA, default='headers',
                        help='faces checked before the run: every image header (default), every image decoded '
                        '(full), or none')
    return parser


def parse_options(root_path, is_train=True, argv=None):
    """``(opt, args)`` as BasicSR's ``parse_options`` returns them; also starts the process group (``--launcher``)
    and seeds every generator with ``manual_seed + rank``."""
    args = option_parser().parse_args(argv)
    opt = apply_force_yml(load_option_file(args.opt), args.force_yml or ())

    opt['dist'] = args.launcher != 'none'
    if opt['dist']:
        dist_params = opt.get('dist_params') or {}
        init_dist(args.launcher, dist_params.get('backend'), dist_params.get('port'))
    else:
        print('Disable distributed.', flush=True)
    opt['rank'], opt['world_size'] = get_dist_info()

    if opt.get('manual_seed') is None:
        opt['manual_seed'] = random.randint(1, 10000)
    set_random_seed(opt['manual_seed'] + opt['rank'])

    opt['auto_resume'] = args.auto_resume
    opt['is_train'] = is_train
    if args.debug and not opt['name'].startswith('debug'):
        opt['name'] = 'debug_' + opt['name']
    if opt['num_gpu'] == 'auto':
        opt['num_gpu'] = torch.cuda.device_count()

    for phase, dataset in opt['datasets'].items():  # val_1, val_2, test_1, ... are phases val and test
        dataset['phase'] = phase.split('_')[0]
        if 'scale' in opt:
            dataset['scale'] = opt['scale']
        for key in ('dataroot_gt', 'dataroot_lq'):
            if dataset.get(key) is not None:
                dataset[key] = osp.expanduser(dataset[key])
    for key, value in opt['path'].items():
        if value is not None and ('resume_state' in key or 'pretrain_network' in key):
            opt['path'][key] = osp.expanduser(value)

    if is_train:
        experiments_root = osp.join(root_path, 'experiments', opt['name'])
        opt['path'].update(experiments_root=experiments_root, models=osp.join(experiments_root, 'models'),
                           training_states=osp.join(experiments_root, 'training_states'), log=experiments_root,
                           visualization=osp.join(experiments_root, 'visualization'))
        if 'debug' in opt['name']:  # BasicSR's debug mode: log every iteration, validate and save every 8
            if 'val' in opt:
                opt['val']['val_freq'] = 8
            opt['logger']['print_freq'] = 1
            opt['logger']['save_checkpoint_freq'] = 8
    else:
        results_root = osp.join(root_path, 'results', opt['name'])
        opt['path'].update(results_root=results_root, log=results_root,
                           visualization=osp.join(results_root, 'visualization'))
    opt['root_path'] = root_path
    return opt, args


def hold_run_folder(opt, folder, what):
    """A context in which rank 0 holds the run's folder (:class:`~mrr_plugin.utils.run_lock.FolderLock`), taken
    before anything in it is archived, created or resumed; FolderInUse (one line naming the running process) when
    another run holds it."""
    if opt['rank'] != 0:
        return contextlib.nullcontext()
    lock = FolderLock(folder, what).acquire()
    if lock.note:
        print(f'note: {lock.note}', file=sys.stderr, flush=True)
    return lock
