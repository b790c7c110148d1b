"""The single place that adapts basicsr 1.4.2 to today's torch, torchvision and lmdb.

``mrr_plugin/__init__.py`` imports this module before anything else touches basicsr. Every patch below
names the upstream problem it covers and has a test in ``tests/test_compat.py``.
"""
import os
import types
from os import path as osp

import torch

import mrr_basicsr_compat

# torchvision >= 0.17 removed ``transforms.functional_tensor``; basicsr.data.degradations imports it. The alias lives
# in the start-up hook mrr_basicsr_compat (so `import basicsr` works without us too); installing it twice is a no-op.
mrr_basicsr_compat.install()

from basicsr.models import base_model as _bsr_base_model  # noqa: E402
from basicsr.utils import file_client as _bsr_file_client  # noqa: E402

from mrr_plugin.utils.lmdb_file import open_lmdb  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Checkpoints: written atomically.
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


# ------------------------------------------------------------------------------------------------
# LMDB: one environment per (process, path).
# ------------------------------------------------------------------------------------------------
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
