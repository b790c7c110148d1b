"""Option files checked before a run starts: YAML syntax, misspelt keys, unknown ``type`` names, missing keys.

BasicSR reads options with ``opt['key']`` / ``opt.get('key')`` where it needs them, so a misspelt key is either
silently ignored (``use_hflp: true`` trains without flips) or a KeyError deep inside the run, after the old
experiment folder was archived. :func:`option_problems` checks every key of the file first:

- a dict whose ``type`` names a registered network, loss, metric, optimizer or scheduler may hold only that
  object's constructor arguments (``**kwargs`` of a base class are followed);
- any other key must be one that BasicSR or this plugin reads somewhere (collected once from their source code:
  string subscripts, ``.get`` / ``.pop`` / ``in`` tests, strings of literal tuples a loop runs over, and f-string
  prefixes such as ``pretrain_network_``).

Each problem names the key's path and the closest known key.
"""
import argparse
import ast
import difflib
import functools
import inspect
import os
import sys
from os import path as osp

import basicsr
import torch
from basicsr.models import lr_scheduler
from basicsr.utils.registry import ARCH_REGISTRY, DATASET_REGISTRY, LOSS_REGISTRY, METRIC_REGISTRY, MODEL_REGISTRY

from mrr_plugin.pipelines.option_values import path_problems, value_problems
from mrr_plugin.utils.option_file import OptionError, apply_force_yml, excerpt, load_option_file

# basicsr 1.4.2's BaseModel.get_optimizer / setup_schedulers accept exactly these types
OPTIMIZERS = {'Adam': torch.optim.Adam}
SCHEDULERS = {
    'MultiStepLR': lr_scheduler.MultiStepRestartLR,
    'MultiStepRestartLR': lr_scheduler.MultiStepRestartLR,
    'CosineAnnealingRestartLR': lr_scheduler.CosineAnnealingRestartLR,
}
# arguments the code passes itself: optimizer parameters, the optimizer of a scheduler, the images of a metric
PASSED_BY_CODE = {'params', 'optimizer', 'attention_factory', 'img', 'img2'}
# dist_params: what the plugin's init_dist reads from them
DIST_PARAMS = {'backend', 'port'}
# keys parse_options fills in itself (never expected in a file, harmless if given)
FILLED_BY_BASICSR = {'phase', 'scale', 'dist', 'rank', 'world_size', 'auto_resume', 'is_train', 'root_path'}


CHECK_DATA = ('headers', 'full', 'none')


def check_option_file(opt_path, for_training, force_yml=(), check_files=True, notes=None, check_data='headers'):
    """Load ``opt_path``, apply ``--force_yml`` entries, check (with ``check_files`` also every file the run reads,
    and the faces as ``check_data`` says); OptionError lists every problem."""
    opt = apply_force_yml(load_option_file(opt_path, notes), force_yml)
    problems = option_problems(opt, for_training)
    if check_files:
        problems += path_problems(opt, for_training, check_data)
    if problems:
        lines = '\n'.join(f'  - {problem}' for problem in problems)
        raise OptionError(f'{opt_path}: {len(problems)} problem(s); nothing was started:\n{lines}')
    return opt


def exit_on_option_problems(argv, for_training):
    """For the entry points: check the ``-opt`` file of ``argv`` (with ``--force_yml``); on problems, print them
    and exit with status 2. Notes (numbers YAML 1.1 would read as text) are printed as ``note:`` lines."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('-opt', type=str)
    parser.add_argument('--force_yml', nargs='+', default=[])
    parser.add_argument('--check-data', choices=CHECK_DATA, default='headers')
    args = parser.parse_known_args(argv)[0]
    if args.opt is None:
        return  # the entry point's own parser reports the missing -opt
    notes = []
    try:
        check_option_file(args.opt, for_training, args.force_yml, notes=notes, check_data=args.check_data)
    except OptionError as error:
        print(f'error: {error}', file=sys.stderr, flush=True)
        sys.exit(2)
    finally:
        for note in notes:
            print(f'note: {note}', file=sys.stderr, flush=True)


def option_problems(opt, for_training):
    """Every problem of an option dict as one sentence each (empty list: the options look runnable): its keys,
    then its values (:func:`~mrr_plugin.pipelines.option_values.value_problems`); files are checked by
    :func:`check_option_file`."""
    problems = []
    for key in ('name', 'num_gpu', 'datasets', 'path'):  # read unconditionally by BasicSR's parse_options
        if key not in opt:
            problems.append(f"'{key}' is missing.")
    if for_training and not isinstance(opt.get('train'), dict):
        problems.append("'train' is missing (the training settings).")
    _check_registered('model_type', opt.get('model_type'), MODEL_REGISTRY, problems, 'model')
    for key, value in opt.items():
        if key.startswith('network_') and isinstance(value, dict):
            _check_typed(key, value, _registered(ARCH_REGISTRY, value.get('type')), 'network', ARCH_REGISTRY,
                         problems)
        elif key == 'datasets':
            _check_datasets(value, for_training, problems)
        elif key == 'train' and isinstance(value, dict):
            _check_train(value, for_training, problems)
        elif key == 'val' and isinstance(value, dict):
            _check_val(value, problems)
        elif key == 'dist_params' and isinstance(value, dict):
            for name in value:
                if name not in DIST_PARAMS:
                    problems.append(_unknown(f'dist_params.{name}', name, DIST_PARAMS, ''))
        else:
            _check_known(key, value, problems)
    # a network whose keys are already reported is not built (its constructor would repeat the problem)
    reported = {key for key in opt if key.startswith('network_')
                and any(f"'{key}." in problem or problem.startswith(f'{key}.') for problem in problems)}
    return problems + value_problems(opt, for_training, skip_networks=reported)


def _check_datasets(datasets, for_training, problems):
    if not isinstance(datasets, dict) or not datasets:
        problems.append("'datasets' must map phase names (train, val, test_1, ...) to dataset options.")
        return
    for phase, dataset in datasets.items():
        where = f'datasets.{phase}'
        if for_training and phase != 'train' and phase.split('_')[0] != 'val':
            problems.append(f"{where}: phase names in a training file are 'train' or 'val[_name]'.")
        if not isinstance(dataset, dict):
            problems.append(f'{where} must be a mapping of dataset options.')
            continue
        dataset_cls = _check_registered(f'{where}.type', dataset.get('type'), DATASET_REGISTRY, problems, 'dataset')
        for key in sorted(_required_dataset_keys(dataset_cls) - set(dataset) - FILLED_BY_BASICSR):
            problems.append(f"{where}: '{key}' is missing ({dataset['type']} reads it).")
        for key, value in dataset.items():
            _check_known(f'{where}.{key}', value, problems)
    if for_training and 'train' not in datasets:
        problems.append("'datasets' has no 'train' phase.")


def _check_train(train, for_training, problems):
    if for_training and 'total_iter' not in train:
        problems.append("'train.total_iter' is missing.")
    for key, value in train.items():
        where = f'train.{key}'
        if key.startswith('optim_') and isinstance(value, dict):
            _check_typed(where, value, OPTIMIZERS.get(value.get('type')), 'optimizer', OPTIMIZERS, problems)
        elif key == 'scheduler' and isinstance(value, dict):
            _check_typed(where, value, SCHEDULERS.get(value.get('type')), 'scheduler', SCHEDULERS, problems)
        elif key.endswith('_opt') and isinstance(value, dict) and 'type' in value and _is_known(key):
            _check_typed(where, value, _registered(LOSS_REGISTRY, value['type']), 'loss', LOSS_REGISTRY, problems)
        else:
            _check_known(where, value, problems)


def _check_val(val, problems):
    for key, value in val.items():
        if key == 'metrics' and isinstance(value, dict):
            for name, metric in value.items():
                where = f'val.metrics.{name}'
                if not isinstance(metric, dict):
                    problems.append(f'{where} must be a mapping with a type.')
                    continue
                metric_fn = _registered(METRIC_REGISTRY, metric.get('type'))
                _check_typed(where, metric, metric_fn, 'metric', METRIC_REGISTRY, problems, extra={'better'})
        else:
            _check_known(f'val.{key}', value, problems)


def _check_typed(where, options, obj, kind, registry, problems, extra=()):
    """Keys of a ``type:`` dict against the constructor (or function) arguments of what the type names."""
    if obj is None:
        _check_registered(f'{where}.type', options.get('type'), registry, problems, kind)
        return
    allowed, open_ended = _arguments(obj)
    allowed |= {'type'} | set(extra)
    if open_ended:
        allowed |= _read_keys()[0]
    for key in options:
        if key not in allowed:
            problems.append(_unknown(f'{where}.{key}', key, allowed, f" for {kind} {options['type']}"))
    for key in sorted(_required_arguments(obj) - set(options)):
        problems.append(f"{where}: {kind} {options['type']} needs '{key}'.")


def _check_known(where, value, problems):
    """A key (last part of ``where``) outside typed dicts must be one the code reads; recurse into its value."""
    key = where.rsplit('.', 1)[-1]
    if not _is_known(key):
        problems.append(_unknown(where, key, _read_keys()[0], ''))
        return
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        if isinstance(item, dict):
            item_where = f'{where}[{index}]' if isinstance(value, list) else where
            for sub_key, sub_value in item.items():
                _check_known(f'{item_where}.{sub_key}', sub_value, problems)


def _is_known(key):
    keys, prefixes = _read_keys()
    return key in keys or key.startswith(prefixes)


def _unknown(where, key, candidates, context):
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.75)
    hint = f"; did you mean '{close[0]}'?" if close else ' (nothing reads it).'
    return f"unknown option {excerpt(where)}{context}{hint}"


def _registered(registry, name):
    if not isinstance(name, str):
        return None
    for key in (name, f'{name}_basicsr'):  # BasicSR's Registry.get falls back to the suffixed name the same way
        if key in registry:
            return registry.get(key)
    return None


def _check_registered(where, name, registry, problems, kind):
    """The object ``name`` resolves to in ``registry`` (BasicSR's lookup); a problem when it does not."""
    obj = _registered(registry, name) if not isinstance(registry, dict) else registry.get(name)
    if obj is None:
        known = sorted(registry.keys())
        if name is None:
            problems.append(f"{where} is missing.")
        else:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            listed = ', '.join(known[:12]) + (', ...' if len(known) > 12 else '')
            hint = f"did you mean '{close[0]}'?" if close else f'known: {listed}.'
            problems.append(f"{where}: no {kind} named '{name}' is registered; {hint}")
    return obj


def _signature_parameters(obj):
    """Named arguments of a function or class constructor (following ``**kwargs`` into base classes)."""
    if not inspect.isclass(obj):
        params = list(inspect.signature(obj).parameters.values())
        return params, any(p.kind is p.VAR_KEYWORD for p in params)
    params, open_ended = [], True
    for cls in obj.__mro__:
        if not open_ended or cls in (torch.nn.Module, object) or '__init__' not in vars(cls):
            continue
        own = list(inspect.signature(cls.__init__).parameters.values())[1:]
        params += [p for p in own if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        open_ended = any(p.kind is p.VAR_KEYWORD for p in own)
    return params, open_ended and not issubclass(obj, torch.nn.Module)


def _arguments(obj):
    params, open_ended = _signature_parameters(obj)
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - PASSED_BY_CODE, open_ended


def _required_arguments(obj):
    params, _ = _signature_parameters(obj)
    return {p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            } - PASSED_BY_CODE


@functools.lru_cache(maxsize=None)
def _required_dataset_keys(dataset_cls):
    """``opt['key']`` read unconditionally in a dataset's ``__init__`` (statements directly in its body)."""
    if dataset_cls is None:
        return frozenset()
    keys = set()
    for cls in dataset_cls.__mro__:
        init = vars(cls).get('__init__')
        if init is None or not cls.__module__.startswith(('basicsr', 'mrr_plugin')):
            continue
        try:
            tree = ast.parse(inspect.getsource(init).strip())
        except (OSError, SyntaxError):
            continue
        keys.update(_unconditional_opt_keys(tree.body[0].body))
    return frozenset(keys)


def _unconditional_opt_keys(nodes):
    """``opt['key']`` / ``self.opt['key']`` in ``nodes``, not under an if, loop, try or conditional expression."""
    keys = set()
    for node in nodes:
        if isinstance(node, (ast.If, ast.IfExp, ast.BoolOp, ast.For, ast.While, ast.Try, ast.With, ast.Lambda,
                             ast.comprehension)):
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.slice.value, str) and _is_opt(node.value):
            keys.add(node.slice.value)
        keys |= _unconditional_opt_keys(list(ast.iter_child_nodes(node)))
    return keys


def _is_opt(node):
    return (isinstance(node, ast.Name) and node.id == 'opt') or (isinstance(node, ast.Attribute) and node.attr == 'opt')


@functools.lru_cache(maxsize=None)
def _read_keys():
    """(keys, prefixes) that basicsr and mrr_plugin read from option dicts anywhere in their source code."""
    keys, prefixes = set(FILLED_BY_BASICSR), set()
    for package_dir in (osp.dirname(basicsr.__file__), osp.dirname(osp.dirname(osp.abspath(__file__)))):
        for folder, _, files in os.walk(package_dir):
            for file_name in files:
                if file_name.endswith('.py'):
                    with open(osp.join(folder, file_name), encoding='utf-8') as f:
                        _collect_keys(ast.parse(f.read()), keys, prefixes)
    return frozenset(keys), tuple(sorted(p for p in prefixes if len(p) >= 4))


def _collect_keys(tree, keys, prefixes):
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, (ast.Tuple, ast.List)):
            keys.update(e.value for e in node.iter.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
            continue
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and \
                node.func.attr in ('get', 'pop', 'setdefault'):
            key = node.args[0]
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            key = node.left
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
        elif isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
            prefixes.add(key.values[0].value)
