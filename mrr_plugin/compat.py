"""The single place that adapts basicsr 1.4.2 to today's torch, torchvision and lmdb.

``mrr_plugin/__init__.py`` imports this module before anything else touches basicsr. Every patch below
names the upstream problem it covers and has a test in ``tests/test_compat.py``.
"""
import os
import re
import sys
import types
from os import path as osp

import torch


def _alias_functional_tensor():
    """torchvision >= 0.17 removed ``transforms.functional_tensor``; basicsr.data.degradations imports it."""
    name = 'torchvision.transforms.functional_tensor'
    if name in sys.modules:
        return
    try:
        import torchvision.transforms.functional_tensor  # noqa: F401  (old torchvision still has it)
    except ImportError:
        from torchvision.transforms import _functional_tensor
        sys.modules[name] = _functional_tensor


_alias_functional_tensor()

from basicsr import train as _bsr_train  # noqa: E402  (must follow the alias above)
from basicsr.models import base_model as _bsr_base_model  # noqa: E402
from basicsr.utils import file_client as _bsr_file_client  # noqa: E402
from basicsr.utils.misc import check_resume  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Checkpoints: written atomically, resumed on CPU, found relative to the project root.
# ------------------------------------------------------------------------------------------------
def atomic_torch_save(obj, path):
    """``torch.save`` to a temporary name in the same folder, then rename: a crash never leaves a truncated file."""
    tmp_path = f'{path}.tmp{os.getpid()}'
    try:
        torch.save(obj, tmp_path)
        os.replace(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def module_with(module, **overrides):
    """A stand-in for ``module`` that answers ``overrides`` first, for replacing one name inside another module."""
    proxy = types.ModuleType(module.__name__)
    proxy.__dict__.update(overrides)
    proxy.__getattr__ = lambda name: getattr(module, name)
    return proxy


# basicsr 1.4.2 writes net_*.pth and *.state in place: a run killed mid-save leaves a truncated newest file.
_bsr_base_model.torch = module_with(torch, save=atomic_torch_save)


def _state_iter(file_name):
    return int(float(file_name[:-len('.state')]))


class UnsafeOrBrokenFile(ValueError):
    """A checkpoint or state that does not load as plain data (truncated, or holding code); nothing in it ran."""


def load_training_state(path):
    """A training state read with ``weights_only=True``: tensors, numbers, strings and containers only (BasicSR's
    scheduler states hold a ``collections.Counter``, which torch allows). Nothing in the file is ever run; a file
    that does not load so raises :class:`UnsafeOrBrokenFile` with one sentence."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:
        raise UnsafeOrBrokenFile(f'{path} does not load as plain tensors and numbers ({type(error).__name__}: it '
                                 'is truncated or holds objects other than data); nothing in it was run.') from None


def find_resume_state(training_states_dir, network_files=lambda iteration: ()):
    """Newest ``<iter>.state`` in the folder that loads as plain data and whose network files
    (``network_files(iter)``) all load too, or None; every candidate passed over is named in one line."""
    if not osp.isdir(training_states_dir):
        return None
    names = [n for n in os.listdir(training_states_dir) if n.endswith('.state')]
    for name in sorted(names, key=_state_iter, reverse=True):
        path = osp.join(training_states_dir, name)
        try:
            load_training_state(path)
            for network_file in network_files(_state_iter(name)):
                if not osp.isfile(network_file):
                    raise UnsafeOrBrokenFile(f'{network_file} of the same iteration is missing')
                load_training_state(network_file)
        except UnsafeOrBrokenFile as error:  # a crash of an older, non-atomic writer, a lost file, or not data
            print(f'Skipping training state {path}: {error}; trying the previous one.', flush=True)
            continue
        return path
    return None


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
    """Replacement for ``basicsr.train.load_resume_state``.

    Upstream (a) looks for ``experiments/<name>/training_states`` relative to the current directory instead of
    ``opt['root_path']``, and (b) maps the state with ``torch.cuda.current_device()``, which crashes on a
    CPU-only machine. Here the state is found under the project root and loaded onto CPU (optimizer state then
    follows the parameters' device when the optimizer loads it).
    """
    resume_state_path = None
    removed = remove_stale_temporary_files(opt['path']['training_states'], opt['path']['models'])
    if removed:
        print(f'Removed {removed} temporary file(s) of interrupted checkpoint writes.', flush=True)
    if opt['auto_resume']:
        resume_state_path = find_resume_state(opt['path']['training_states'], resumed_network_files(opt))
        if resume_state_path is not None:
            opt['path']['resume_state'] = resume_state_path
    elif opt['path'].get('resume_state'):
        resume_state_path = opt['path']['resume_state']
        if not osp.isfile(resume_state_path):
            raise FileNotFoundError(f'path.resume_state points to {resume_state_path}, which does not exist.')

    if resume_state_path is None:
        return None
    resume_state = load_training_state(resume_state_path)
    check_resume(opt, resume_state['iter'])
    return resume_state


_bsr_train.load_resume_state = load_resume_state


# ------------------------------------------------------------------------------------------------
# LMDB: one environment per (process, path).
# ------------------------------------------------------------------------------------------------
_LMDB_ENVS = {}


def open_lmdb(path, readonly=True, lock=False, readahead=False, **kwargs):
    """Open an LMDB environment read-only, sharing it with every other reader of the same path in this process.

    lmdb >= 2.0 raises "The environment ... is already open in this process" when a path is opened twice, which
    basicsr 1.4.2 does whenever train and val datasets (or two tests) read one LMDB. The key includes the process
    id, so dataloader workers forked after the parent opened an environment open their own.
    """
    import lmdb
    if not osp.isdir(path) or not osp.isfile(osp.join(path, 'data.mdb')):
        raise FileNotFoundError(f'{path} is not an LMDB folder (no data.mdb inside); build it with '
                                'scripts/create_face_lmdb.py.')
    key = (os.getpid(), osp.realpath(path))
    if key not in _LMDB_ENVS:
        _LMDB_ENVS[key] = lmdb.open(path, readonly=readonly, lock=lock, readahead=readahead, **kwargs)
    return _LMDB_ENVS[key]


def _lmdb_backend_init(self, db_paths, client_keys='default', readonly=True, lock=False, readahead=False, **kwargs):
    client_keys = [client_keys] if isinstance(client_keys, str) else list(client_keys)
    self.db_paths = [str(p) for p in (db_paths if isinstance(db_paths, (list, tuple)) else [db_paths])]
    if len(client_keys) != len(self.db_paths):
        raise ValueError(f'client_keys and db_paths differ in length: {client_keys} vs {self.db_paths}.')
    self._client = {
        key: open_lmdb(path, readonly=readonly, lock=lock, readahead=readahead, **kwargs)
        for key, path in zip(client_keys, self.db_paths)
    }


def _lmdb_backend_get(self, filepath, client_key):
    env = self._client[client_key]
    with env.begin(write=False) as txn:
        value = txn.get(str(filepath).encode('ascii'))
    if value is None:  # upstream returns None and the decoder fails later with an unrelated message
        raise KeyError(f'Key "{filepath}" is not in the LMDB {env.path()}; check its meta_info.txt.')
    return value


# lmdb >= 2.0 refuses a second open of one environment per process; upstream also returns None for missing keys.
_bsr_file_client.LmdbBackend.__init__ = _lmdb_backend_init
_bsr_file_client.LmdbBackend.get = _lmdb_backend_get


# ------------------------------------------------------------------------------------------------
# Distributed training: torchrun / SLURM on GPUs (nccl) and on CPU-only machines (gloo).
# ------------------------------------------------------------------------------------------------
def _backend_from_option_file(argv=None):
    """``dist_params.backend`` of the option file named by ``-opt`` (BasicSR reads it for SLURM only)."""
    import yaml
    argv = sys.argv if argv is None else argv
    if '-opt' not in argv or argv.index('-opt') + 1 >= len(argv):
        return None
    try:
        with open(argv[argv.index('-opt') + 1]) as f:
            return ((yaml.safe_load(f) or {}).get('dist_params') or {}).get('backend')
    except (OSError, yaml.YAMLError):
        return None


def default_dist_backend():
    return 'nccl' if torch.cuda.is_available() else 'gloo'


def init_dist(launcher, backend=None, port=None, **kwargs):
    """Replacement for ``basicsr.utils.dist_util.init_dist``.

    Upstream hard-codes nccl and calls ``torch.cuda.set_device`` (a division by zero without GPUs), so the same
    run cannot start on a CPU-only machine. Here: backend = ``dist_params.backend`` if set, else nccl with CUDA
    and gloo without; the CUDA device is ``LOCAL_RANK`` (torchrun) or ``SLURM_LOCALID``; ``launcher: slurm``
    derives the rendezvous from SLURM's variables as BasicSR does.
    """
    import torch.distributed as dist
    if dist.is_initialized():
        return
    backend = backend or _backend_from_option_file() or default_dist_backend()
    if launcher == 'slurm':
        import subprocess
        node_list = os.environ['SLURM_NODELIST']
        os.environ.setdefault('MASTER_ADDR', subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1'))
        os.environ['MASTER_PORT'] = str(port or os.environ.get('MASTER_PORT', 29500))
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    elif launcher != 'pytorch':
        raise ValueError(f'Invalid launcher type: {launcher}')
    if torch.cuda.is_available() and backend == 'nccl':
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count())
    dist.init_process_group(backend=backend)


def model_to_device(self, net):
    """Replacement for ``BaseModel.model_to_device``: upstream passes ``device_ids=[current CUDA device]`` to
    DistributedDataParallel even for a CPU model, which fails; a CPU model gets ``device_ids=None``."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel
    net = net.to(self.device)
    if self.opt['dist']:
        device_ids = [torch.cuda.current_device()] if self.device.type == 'cuda' else None
        net = DistributedDataParallel(
            net, device_ids=device_ids, find_unused_parameters=self.opt.get('find_unused_parameters', False))
    elif self.opt['num_gpu'] > 1:
        net = DataParallel(net)
    return net


from basicsr.utils import dist_util as _bsr_dist_util  # noqa: E402
from basicsr.utils import options as _bsr_options  # noqa: E402

# init_dist hard-codes nccl + CUDA; DDP wrapping assumes CUDA; both fail on CPU-only machines.
_bsr_dist_util.init_dist = init_dist
_bsr_options.init_dist = init_dist
_bsr_base_model.BaseModel.model_to_device = model_to_device


# ------------------------------------------------------------------------------------------------
# Training log: the share of each step spent waiting for data.
# ------------------------------------------------------------------------------------------------
from basicsr.utils import logger as _bsr_logger  # noqa: E402

_message_logger_call = _bsr_logger.MessageLogger.__call__


def _message_logger_with_data_wait(self, log_vars):
    """BasicSR prints data time and step time but not their ratio; add ``data_wait`` (also a TensorBoard scalar)."""
    if log_vars.get('time'):
        log_vars['data_wait'] = log_vars['data_time'] / log_vars['time']
    return _message_logger_call(self, log_vars)


_bsr_logger.MessageLogger.__call__ = _message_logger_with_data_wait


# ------------------------------------------------------------------------------------------------
# Validation under DDP.
# ------------------------------------------------------------------------------------------------
from basicsr.models import sr_model as _bsr_sr_model  # noqa: E402


def _sr_model_test(self):
    """Replacement for ``SRModel.test``: rank 0 validates alone, so it must not call the DDP wrapper, whose
    forward broadcasts buffers (BatchNorm statistics, fixed resampling weights) to ranks that never join."""
    network = self.net_g_ema if hasattr(self, 'net_g_ema') else self.get_bare_model(self.net_g)
    network.eval()
    with torch.no_grad():
        self.output = network(self.lq)
    if not hasattr(self, 'net_g_ema'):
        self.net_g.train()


_bsr_sr_model.SRModel.test = _sr_model_test
