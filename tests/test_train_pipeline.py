"""End to end: the command users type, `python -m mrr_plugin.train`, through BasicSR's real pipeline on CPU."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import python_env

pytestmark = pytest.mark.slow


def write_options(root, lmdbs, total_iter, name='MRRNet_pipeline_test', model_type='FaceSRModel',
                  network_g='{type: MRRNet, min_ch: 8, max_ch: 16, res_depth: 4}', extra_train=''):
    path = root / f'{name}.yml'
    path.write_text(textwrap.dedent(f"""\
        name: {name}
        model_type: {model_type}
        scale: 8
        num_gpu: 0
        manual_seed: 0
        datasets:
          train:
            name: dev_train
            type: FaceBicubicDataset
            dataroot_gt: {lmdbs['train_hr']}
            io_backend: {{type: lmdb}}
            num_worker_per_gpu: 1
            batch_size_per_gpu: 2
          val:
            name: dev_val
            type: PairedImageDataset
            dataroot_gt: {lmdbs['val_hr']}
            dataroot_lq: {lmdbs['val_lr']}
            io_backend: {{type: lmdb}}
        network_g: {network_g}
        path: {{pretrain_network_g: ~, strict_load_g: true, resume_state: ~}}
        train:
          optim_g: {{type: Adam, lr: !!float 1e-3, betas: [0.9, 0.99]}}
          scheduler: {{type: MultiStepLR, milestones: [4], gamma: 0.5}}
          total_iter: {total_iter}
          pixel_opt: {{type: L1Loss, loss_weight: 1.0}}
{extra_train}
        val:
          val_freq: 2
          save_img: false
          tb_samples: 2
          metrics:
            psnr: {{type: calculate_psnr, crop_border: 8, test_y_channel: true}}
        logger: {{print_freq: 1, save_checkpoint_freq: 2, use_tb_logger: true}}
        """))
    return str(path)


def run_train(root, options, *extra, cwd):
    command = [sys.executable, '-m', 'mrr_plugin.train', '-opt', options, *extra]
    result = subprocess.run(command, cwd=cwd, env=python_env(root), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_train_writes_checkpoints_state_and_tensorboard_then_resumes(dev_lmdbs, tmp_path):
    root = tmp_path / 'project'
    root.mkdir()
    options = write_options(tmp_path, dev_lmdbs, total_iter=4)
    log = run_train(root, options, cwd=tmp_path)
    experiment = root / 'experiments' / 'MRRNet_pipeline_test'
    assert sorted(os.listdir(experiment / 'models')) == ['net_g_2.pth', 'net_g_4.pth', 'net_g_latest.pth']
    assert sorted(os.listdir(experiment / 'training_states')) == ['2.state', '4.state']
    state = torch.load(experiment / 'training_states' / '4.state', weights_only=False)
    assert state['iter'] == 4 and len(state['optimizers']) == 1
    assert 'Validation dev_val' in log

    events = EventAccumulator(str(root / 'tb_logger' / 'MRRNet_pipeline_test'))
    events.Reload()
    tags = events.Tags()
    assert {'losses/l_pix', 'lr', 'metrics/dev_val/psnr'} <= set(tags['scalars'])
    assert [e.step for e in events.Scalars('losses/l_pix')] == [1, 2, 3, 4]
    assert 'samples/dev_val' in tags['images']

    # resume from another working directory: continues at iteration 5, not from scratch
    other_cwd = tmp_path / 'elsewhere'
    other_cwd.mkdir()
    options = write_options(tmp_path, dev_lmdbs, total_iter=6)
    log = run_train(root, options, '--auto_resume', cwd=other_cwd)
    assert 'Resuming training from epoch: 0, iter: 4.' in log
    assert 'iter:       5' in log and 'iter:       1,' not in log
    assert sorted(os.listdir(experiment / 'training_states')) == ['2.state', '4.state', '6.state']
    resumed = torch.load(experiment / 'training_states' / '6.state', weights_only=False)
    # the scheduler continued too (BasicSR steps it from iteration 2 on, so last_epoch = iter - 1)
    assert resumed['iter'] == 6
    assert resumed['schedulers'][0]['last_epoch'] == state['schedulers'][0]['last_epoch'] + 2 == 5


GAN_TRAIN_OPTIONS = """\
          optim_d: {{type: Adam, lr: !!float 4e-4, betas: [0.9, 0.99]}}
          perceptual_opt: {{type: FacePerceptualLoss, vgg_weights_path: {vgg}, perceptual_weight: 0.01}}
          gan_opt: {{type: RaHingeGANLoss, loss_weight: 0.01}}
        network_d: {{type: MRRPatchDiscriminator, num_feat: 8}}"""


@pytest.mark.parametrize('model', ['MRRGAN', 'SPARNet'])
def test_gan_and_sparnet_recipes_save_and_resume(model, dev_lmdbs, random_vgg19_weights, tmp_path):
    if model == 'MRRGAN':
        kwargs = dict(model_type='MRRGANModel', network_g='{type: MRRNet, min_ch: 8, max_ch: 16, res_depth: 1}',
                      extra_train=GAN_TRAIN_OPTIONS.format(vgg=random_vgg19_weights))
        expected_models = ['net_d_2.pth', 'net_d_latest.pth', 'net_g_2.pth', 'net_g_latest.pth']
    else:
        kwargs = dict(network_g='{type: SPARNet, min_ch: 8, max_ch: 16, res_depth: 1, mid_channels: 8}',
                      extra_train='          ema_decay: 0.9')
        expected_models = ['net_g_2.pth', 'net_g_latest.pth']
    root = tmp_path / 'project'
    root.mkdir()
    name = f'{model}_pipeline_test'
    run_train(root, write_options(tmp_path, dev_lmdbs, 2, name=name, **kwargs), cwd=tmp_path)
    experiment = root / 'experiments' / name
    assert sorted(os.listdir(experiment / 'models')) == expected_models
    checkpoint = torch.load(experiment / 'models' / 'net_g_2.pth', weights_only=True)
    if model == 'SPARNet':  # EMA copy carries the live BatchNorm statistics
        ema, live = checkpoint['params_ema'], checkpoint['params']
        key = 'encoder.1.preact_func.0.norm.running_mean'
        torch.testing.assert_close(ema[key], live[key])
        assert ema[key].abs().sum() > 0
    log = run_train(root, write_options(tmp_path, dev_lmdbs, 3, name=name, **kwargs), '--auto_resume', cwd=tmp_path)
    assert 'Resuming training from epoch: 0, iter: 2.' in log and 'iter:       3' in log
    state = torch.load(experiment / 'training_states' / '2.state', weights_only=False)
    assert len(state['optimizers']) == (2 if model == 'MRRGAN' else 1)
    if model == 'MRRGAN':
        assert 'l_g_gan' in log and 'l_d' in log
        assert sorted(os.listdir(experiment / 'models'))[:2] == ['net_d_2.pth', 'net_d_latest.pth']
