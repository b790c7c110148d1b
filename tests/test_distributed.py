"""Two-process DDP on CPU (gloo) through torchrun and BasicSR's real pipeline: MRRNet, MRRGAN, SPARNetHD and the
degradation GANs."""
import glob
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import (PROJECT_ROOT, degradation_gan_options, gan_training_extras, python_env, sparnethd_options,
                            tiny_training_options)

pytestmark = pytest.mark.slow
HELPER = os.path.join(PROJECT_ROOT, 'tests', 'helpers', 'ddp_recording_train.py')
TORCHRUN = os.path.join(os.path.dirname(sys.executable), 'torchrun')


def write_options(path, lmdbs, model, total_iter, vgg):
    """24 faces, 2 ranks x batch 3: one epoch = 4 iterations."""
    train_extra, top_extra = gan_training_extras(vgg) if model == 'RecordingMRRGANModel' else (None, None)
    return tiny_training_options(path, lmdbs, f'ddp_{model}', total_iter, model_type=model,
                                 network_g={'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
                                 dataset_type='KeyRecordingFaceDataset', workers=0, batch=3,
                                 train_extra=train_extra, top_extra=top_extra)


def torchrun(root, record, options, *extra):
    env = dict(python_env(root), MRR_TEST_RECORD_DIR=str(record), OMP_NUM_THREADS='1', PYTHONPATH=PROJECT_ROOT)
    command = [TORCHRUN, '--standalone', '--nproc_per_node=2', HELPER, '-opt', options, '--launcher', 'pytorch',
               *extra]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def assert_same_weights(record, iteration, skip_batchnorm_statistics=False):
    """Both ranks hold the same weights. BatchNorm running statistics are rank-local between DDP's buffer
    broadcasts (each forward starts from rank 0's, which are the ones saved); ``skip_batchnorm_statistics``."""
    rank0 = torch.load(record / f'weights_rank0_iter{iteration}.pth', weights_only=True)
    rank1 = torch.load(record / f'weights_rank1_iter{iteration}.pth', weights_only=True)
    assert rank0.keys() == rank1.keys()
    for net in rank0:
        for key in rank0[net]:
            if skip_batchnorm_statistics and key.endswith(('running_mean', 'running_var')):
                continue
            torch.testing.assert_close(rank0[net][key], rank1[net][key], rtol=0, atol=0, msg=f'{net}.{key}')
    return rank0


@pytest.mark.parametrize('model, precision', [('RecordingFaceSRModel', 'fp32'), ('RecordingMRRGANModel', 'fp32'),
                                              ('RecordingFaceSRModel', 'bf16')])
def test_two_process_gloo_training_and_resume(model, precision, face_lmdbs, random_vgg19_weights, tmp_path):
    root, record = tmp_path / 'project', tmp_path / 'record'
    root.mkdir()
    record.mkdir()
    precision_option = ('--force_yml', f'train:precision={precision}')
    # 24 faces, 2 ranks x batch 3: one epoch = 4 iterations
    log = torchrun(root, record, write_options(tmp_path / 'opt.yml', face_lmdbs, model, 4, random_vgg19_weights),
                   *precision_option)
    assert 'Disable distributed' not in log

    first = assert_same_weights(record, 2)
    last = assert_same_weights(record, 4)
    assert any(not torch.equal(first['g'][k], last['g'][k]) for k in first['g'])  # it trained

    # the first epoch (4 iterations x 3 faces per rank; BasicSR then prefetches one batch of the next epoch)
    keys = [set(open(record / f'keys_rank{r}.txt').read().split()[:12]) for r in (0, 1)]
    assert len(keys[0]) == len(keys[1]) == 12 and not keys[0] & keys[1]  # each rank its own shard
    assert len(keys[0] | keys[1]) == 24

    experiment = root / 'experiments' / f'ddp_{model}'
    assert len(glob.glob(str(experiment / 'train_*.log'))) == 1
    assert len(glob.glob(str(root / 'tb_logger' / f'ddp_{model}' / 'events.*'))) == 1
    rank0_log = open(glob.glob(str(experiment / 'train_*.log'))[0]).read()
    assert rank0_log.count('Validation dev_val') == 3  # iterations 2 and 4, and after training: rank 0 only
    assert 'World size (gpu number): 2' in rank0_log
    expected = {'net_g_2.pth', 'net_g_4.pth', 'net_g_latest.pth'}
    if model == 'RecordingMRRGANModel':
        expected |= {'net_d_2.pth', 'net_d_4.pth', 'net_d_latest.pth'}
        assert 'l_g_gan' in rank0_log and 'l_d' in rank0_log
    assert set(os.listdir(experiment / 'models')) == expected

    log = torchrun(root, record, write_options(tmp_path / 'opt.yml', face_lmdbs, model, 6, random_vgg19_weights),
                   '--auto_resume', *precision_option)
    resumed_log = open(sorted(glob.glob(str(experiment / 'train_*.log')))[-1]).read()
    assert 'Resuming training from epoch: 0, iter: 4.' in resumed_log
    assert 'iter:       5' in resumed_log and 'iter:       1,' not in resumed_log
    assert_same_weights(record, 6)
    assert sorted(os.listdir(experiment / 'training_states')) == ['2.state', '4.state', '6.state']


def test_slurm_launcher_on_one_cpu_task(face_lmdbs, random_vgg19_weights, tmp_path):
    """``--launcher slurm`` as srun starts it (SLURM_* variables), here one task on CPU."""
    root, record = tmp_path / 'project', tmp_path / 'record'
    root.mkdir()
    record.mkdir()
    options = write_options(tmp_path / 'opt.yml', face_lmdbs, 'RecordingFaceSRModel', 2, random_vgg19_weights)
    env = dict(python_env(root), MRR_TEST_RECORD_DIR=str(record), OMP_NUM_THREADS='1', PYTHONPATH=PROJECT_ROOT,
               SLURM_PROCID='0', SLURM_NTASKS='1', SLURM_LOCALID='0', SLURM_NODELIST='localhost',
               MASTER_ADDR='127.0.0.1', MASTER_PORT='29531')
    result = subprocess.run([sys.executable, HELPER, '-opt', options, '--launcher', 'slurm'], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = open(glob.glob(str(root / 'experiments' / 'ddp_RecordingFaceSRModel' / 'train_*.log'))[0]).read()
    assert 'dist: True' in log and 'World size (gpu number): 1' in log and 'data_wait' in log


def test_two_process_degradation_gan(face_lmdbs, real_lr_faces, tmp_path):
    """H2L, D_LR, L2H and D_HR all train under DDP and stay identical on both ranks."""
    import yaml
    root, record = tmp_path / 'project', tmp_path / 'record'
    root.mkdir()
    record.mkdir()
    options = degradation_gan_options(tmp_path / 'dg.yml', face_lmdbs, real_lr_faces, 'ddp_dg', 2)
    with open(options) as f:
        opt = yaml.safe_load(f)
    opt['model_type'] = 'RecordingDegradationGANModel'
    opt['datasets']['train']['num_worker_per_gpu'] = 0
    with open(options, 'w') as f:
        yaml.safe_dump(opt, f)
    log = torchrun(root, record, options)
    assert 'Disable distributed' not in log
    weights = assert_same_weights(record, 2, skip_batchnorm_statistics=True)  # H2L has BatchNorm
    assert set(weights) == {'g', 'h2l', 'd_lr', 'd_hr'}
    rank0_log = open(glob.glob(str(root / 'experiments' / 'ddp_dg' / 'train_*.log'))[0]).read()
    assert 'World size (gpu number): 2' in rank0_log and 'l_h2l_gan' in rank0_log


def test_two_process_sparnethd(face_lmdbs, random_vgg19_weights, tmp_path):
    """SPARNetHD under DDP: spectral-norm G and 3-scale D with gradient checkpointing stay identical on both ranks."""
    root, record = tmp_path / 'project', tmp_path / 'record'
    root.mkdir()
    record.mkdir()
    options = sparnethd_options(tmp_path / 'hd.yml', face_lmdbs, 'ddp_hd', 2, random_vgg19_weights,
                                model_type='RecordingSPARNetHDModel', workers=0)
    log = torchrun(root, record, options)
    assert 'Disable distributed' not in log
    weights = assert_same_weights(record, 2)
    assert set(weights) == {'g', 'd'} and 'encoder.1.conv1.conv2d.weight_u' in weights['g']
    rank0_log = open(glob.glob(str(root / 'experiments' / 'ddp_hd' / 'train_*.log'))[0]).read()
    assert 'World size (gpu number): 2' in rank0_log and 'l_g_fm' in rank0_log
