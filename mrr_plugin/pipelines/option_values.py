"""Option values checked before a run: numbers, sizes and choices (:func:`value_problems`), then every file the run
will read (:func:`path_problems`). Each problem is one sentence naming the option; the entry points print them all
and stop with status 2 before any folder is created or archived (``option_check.check_option_file``).
"""
import numbers
from os import path as osp

import torch
from basicsr.utils.registry import ARCH_REGISTRY

from mrr_plugin.utils.option_file import excerpt
from mrr_plugin.utils.resume import UnsafeOrBrokenFile, load_training_state

# option files read 2e-4 as a number (option_file.SafeOrderedLoader); a quoted number stays text
NUMERIC_STRING_HINT = 'a number in quotes is text: drop the quotes'
IO_BACKENDS = ('disk', 'lmdb', 'memcached')


def _number(where, value, problems, positive=False, at_least=None, integer=False, optional=False):
    """Append a problem unless ``value`` is a number (an int if ``integer``) in range."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        hint = ''
        if isinstance(value, str):
            try:
                float(value)
                hint = f' ({NUMERIC_STRING_HINT})'
            except ValueError:
                pass
        problems.append(f'{where}: expected a number, got {excerpt(value)}{hint}.')
    elif integer and value != int(value):
        problems.append(f'{where}: expected a whole number, got {excerpt(value)}.')
    elif positive and not value > 0:
        problems.append(f'{where}: must be positive, got {excerpt(value)}.')
    elif at_least is not None and value < at_least:
        problems.append(f'{where}: must be at least {at_least}, got {excerpt(value)}.')


def value_problems(opt, for_training, skip_networks=()):
    """Numbers, sizes, choices, the networks' constructor checks (except ``skip_networks``) and scale vs. the
    generator's upscale."""
    problems = []
    num_gpu = opt.get('num_gpu', 0)
    if num_gpu != 'auto':
        _number('num_gpu', num_gpu, problems, at_least=0, integer=True)
    _number('scale', opt.get('scale', 4), problems, positive=True, integer=True)
    _number('manual_seed', opt.get('manual_seed'), problems, integer=True, optional=True)
    for phase, dataset in (opt.get('datasets') or {}).items() if isinstance(opt.get('datasets'), dict) else ():
        if not isinstance(dataset, dict):
            continue
        where = f'datasets.{phase}'
        if phase == 'train' and for_training:
            _number(f'{where}.batch_size_per_gpu', dataset.get('batch_size_per_gpu'), problems, positive=True,
                    integer=True)
            _number(f'{where}.num_worker_per_gpu', dataset.get('num_worker_per_gpu', 0), problems, at_least=0,
                    integer=True)
            _number(f'{where}.dataset_enlarge_ratio', dataset.get('dataset_enlarge_ratio', 1), problems,
                    positive=True, integer=True)
        for key in ('gt_size', 'lq_size', 'hr_size', 'lr_size'):
            if key in dataset:
                _number(f'{where}.{key}', dataset[key], problems, positive=True, integer=True)
        for key, backend in dataset.items():
            if key.startswith('io_backend'):
                kind = backend.get('type') if isinstance(backend, dict) else None
                if kind not in IO_BACKENDS:
                    problems.append(f"{where}.{key}.type: must be one of {', '.join(IO_BACKENDS)}, "
                                    f"got {excerpt(kind)}.")
    train = opt.get('train') if isinstance(opt.get('train'), dict) else {}
    if for_training and 'total_iter' in train:
        _number('train.total_iter', train['total_iter'], problems, positive=True, integer=True)
    for key, value in train.items():
        if key.startswith('optim_') and isinstance(value, dict):
            _number(f'train.{key}.lr', value.get('lr'), problems, positive=True)
            _number(f'train.{key}.weight_decay', value.get('weight_decay', 0), problems, at_least=0)
            betas = value.get('betas', (0.9, 0.999))
            if not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(
                    isinstance(b, numbers.Number) and 0 <= b < 1 for b in betas)):
                problems.append(f'train.{key}.betas: expected two numbers in [0, 1), got {excerpt(betas)}.')
    from mrr_plugin.utils.precision import check_precision
    device_type = 'cuda' if num_gpu not in (0, None) and torch.cuda.is_available() else 'cpu'
    for section in ('train', 'val'):
        precision = (opt.get(section) or {}).get('precision', 'fp32') if isinstance(opt.get(section), dict) else 'fp32'
        try:
            check_precision(precision, device_type, f'{section}.precision')
        except ValueError as error:
            problems.append(str(error))
    from mrr_plugin.models.nonfinite_guard import NONFINITE_MODES
    if train.get('nonfinite', 'stop') not in NONFINITE_MODES:
        problems.append(f"train.nonfinite: must be one of {', '.join(NONFINITE_MODES)}, "
                        f"got {excerpt(train['nonfinite'])}.")
    _number('train.max_nonfinite_skips', train.get('max_nonfinite_skips', 10), problems, positive=True, integer=True)
    scheduler = train.get('scheduler') if isinstance(train.get('scheduler'), dict) else {}
    for milestone in scheduler.get('milestones', ()):
        _number('train.scheduler.milestones', milestone, problems, at_least=0, integer=True)
    if 'gamma' in scheduler:
        _number('train.scheduler.gamma', scheduler['gamma'], problems, positive=True)
    for section, keys in (('val', ('val_freq', )), ('logger', ('print_freq', 'save_checkpoint_freq'))):
        for key in keys:
            if isinstance(opt.get(section), dict) and key in opt[section]:
                _number(f'{section}.{key}', opt[section][key], problems, positive=True)
    for key, network_opt in opt.items():
        if key.startswith('network_') and isinstance(network_opt, dict) and key not in skip_networks:
            kwargs = dict(network_opt)
            try:  # the class itself, not basicsr's build_network: that would set up BasicSR's logger too early
                ARCH_REGISTRY.get(kwargs.pop('type'))(**kwargs)
            except Exception as error:  # the constructor's own check, e.g. norm_type 'inn'
                problems.append(f'{key}: {error}')
    upscale = (opt.get('network_g') or {}).get('upscale') if isinstance(opt.get('network_g'), dict) else None
    if isinstance(upscale, int) and upscale > 1 and opt.get('scale') not in (None, upscale):
        problems.append(f"scale: {excerpt(opt.get('scale'))}, but network_g.upscale is {upscale}; the data would be "
                        'made for another factor than the network upsamples by.')
    return problems


def path_problems(opt, for_training, check_data='headers'):
    """Every file or folder the run will read: data roots (LMDBs with their meta_info.txt), checkpoints to load, a
    resume state, and the pretrained weights named losses and metrics need (never downloaded); with ``check_data``
    ``headers`` (default) or ``full`` also every face of every dataset (:mod:`mrr_plugin.data.data_checks`)."""
    from mrr_plugin.data.data_checks import dataset_problems
    problems = []
    for phase, dataset in (opt.get('datasets') or {}).items() if isinstance(opt.get('datasets'), dict) else ():
        if not isinstance(dataset, dict):
            continue
        if check_data != 'none':
            problems += dataset_problems(f'datasets.{phase}', dataset, opt.get('scale'), full=check_data == 'full')
        for key, root in dataset.items():
            if not key.startswith('dataroot') or not isinstance(root, str):
                continue
            where = f'datasets.{phase}.{key}'
            backend = dataset.get(f'io_backend{key[len("dataroot"):]}', dataset.get('io_backend'))
            if isinstance(backend, dict) and backend.get('type') == 'lmdb':
                if not osp.isfile(osp.join(root, 'data.mdb')):
                    problems.append(f'{where}: {root} is not an LMDB folder (no data.mdb); build it with '
                                    'scripts/create_face_lmdb.py.')
                elif not osp.isfile(osp.join(root, 'meta_info.txt')):
                    problems.append(f'{where}: {root} has no meta_info.txt (scripts/create_face_lmdb.py writes it).')
            elif not osp.exists(root):
                problems.append(f'{where}: {root} does not exist.')
    paths = opt.get('path') if isinstance(opt.get('path'), dict) else {}
    for key, value in paths.items():
        if (key.startswith('pretrain_network_') or key == 'resume_state') and value:
            if not osp.isfile(value):
                problems.append(f'path.{key}: {value} does not exist.')
                continue
            try:  # read as data only (weights_only=True): a file holding code is refused, and nothing in it runs
                load_training_state(value)
            except UnsafeOrBrokenFile as error:
                problems.append(f'path.{key}: {error}')
    train = opt.get('train') if isinstance(opt.get('train'), dict) else {}
    for key, loss in train.items():
        if isinstance(loss, dict) and loss.get('type') == 'FacePerceptualLoss':
            from mrr_plugin.losses.face_perceptual_loss import vgg19_weights_path
            problems += _missing(f'train.{key}', lambda: vgg19_weights_path(loss.get('vgg_weights_path')))
        if isinstance(loss, dict) and loss.get('type') == 'LightCNNFeatureLoss':
            from mrr_plugin.losses.lightcnn_feature_loss import lightcnn_weights_path
            problems += _missing(f'train.{key}', lambda: lightcnn_weights_path(loss.get('weights_path')))
    metrics = (opt.get('val') or {}).get('metrics') if isinstance(opt.get('val'), dict) else None
    for name, metric in (metrics or {}).items() if isinstance(metrics, dict) else ():
        if isinstance(metric, dict) and metric.get('type') == 'calculate_lpips':
            from mrr_plugin.metrics.lpips_metric import lpips_backbone_path
            problems += _missing(f'val.metrics.{name}',
                                 lambda: lpips_backbone_path(metric.get('net', 'alex'), metric.get('backbone_path')))
        from mrr_plugin.metrics.face_structure_metric import ALIGNMENT_FILE, RECOGNITION_FILE
        facexlib_file = {'calculate_landmark_distance': ALIGNMENT_FILE, 'calculate_identity_similarity':
                         RECOGNITION_FILE}.get(metric.get('type')) if isinstance(metric, dict) else None
        if facexlib_file:
            from mrr_plugin.utils import facexlib_weights
            problems += _missing(f'val.metrics.{name}', lambda: facexlib_weights(
                metric.get('weights_dir'), facexlib_file, metric['type']))
    return problems


def _missing(where, find):
    """[] if ``find()`` finds its weights, else its one-sentence FileNotFoundError as a problem of ``where``."""
    try:
        find()
    except (FileNotFoundError, ValueError) as error:
        return [f'{where}: {error}']
    return []
