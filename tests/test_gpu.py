"""Every GPU path in one place (marked ``gpu``; skipped without CUDA): `bash scripts/gpu_check.sh` runs them all on
the first machine with a GPU. Mixed precision on CUDA is in tests/test_models/test_precision.py (also ``gpu``)."""
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import PROJECT_ROOT, python_env, tiny_training_dict, write_options

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')]
TORCHRUN = os.path.join(os.path.dirname(sys.executable), 'torchrun')


def run(command, root, **env):
    result = subprocess.run(command, env={**python_env(root), **env}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_compiled_training_step_on_cuda(face_lmdbs, tmp_path):
    opt = tiny_training_dict(face_lmdbs, 'cuda_compile', 2, train_extra={'compile': True, 'precision': 'bf16'},
                             top_extra={'num_gpu': 1})
    log = run([sys.executable, '-m', 'mrr_plugin.train', '-opt', write_options(tmp_path / 'c.yml', opt)], tmp_path)
    assert 'Validation' in log


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='nccl DDP needs two CUDA devices')
def test_two_process_nccl_training(face_lmdbs, tmp_path):
    top = {'num_gpu': 1, 'dist_params': {'backend': 'nccl'}}
    opt = tiny_training_dict(face_lmdbs, 'nccl', 4, batch=3, top_extra=top)
    log = run([TORCHRUN, '--standalone', '--nproc_per_node=2', '-m', 'mrr_plugin.train', '-opt',
               write_options(tmp_path / 'n.yml', opt), '--launcher', 'pytorch'], tmp_path, PYTHONPATH=PROJECT_ROOT)
    assert 'World size (gpu number): 2' in log


def test_speed_benchmark_on_cuda():
    log = run([sys.executable, os.path.join(PROJECT_ROOT, 'scripts', 'benchmark_speed.py'), '--archs', 'MRRNet',
               '--options', 'fp32 eager', 'bf16 autocast', '--runs', '1', '--warmup', '1', '--device', 'cuda'],
              PROJECT_ROOT)
    assert '| bf16 autocast' in log
