"""train.precision / val.precision: autocast forward passes, float32 losses, weights and checkpoints; bf16 trains
every recipe on CPU, fp16 is refused on CPU and tested where CUDA exists (marked gpu)."""
import os
import subprocess
import sys

import pytest
import torch
import yaml

from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from mrr_plugin.utils.precision import MixedPrecision, check_precision, float32_inputs
from tests.conftest import (degradation_gan_options, gan_training_extras, python_env, sparnethd_options,
                            tiny_training_dict, write_options)


def test_fp16_needs_cuda_and_unknown_precisions_are_named():
    with pytest.raises(ValueError, match='train.precision: fp16 needs a CUDA device .* on CPU use bf16'):
        check_precision('fp16', 'cpu')
    with pytest.raises(ValueError, match="val.precision: must be one of fp32, bf16, fp16, got 'half'"):
        check_precision('half', 'cpu', 'val.precision')
    assert MixedPrecision('bf16', torch.device('cpu')).scaler is None


def test_loss_modules_see_float32_and_the_pil_exact_resize_stays_exact_under_autocast():
    seen = []
    loss = torch.nn.L1Loss()
    loss.register_forward_hook(lambda module, args, out: seen.extend(a.dtype for a in args))
    loss.register_forward_pre_hook(float32_inputs, with_kwargs=True)
    x = torch.rand(2, 3, 16, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = torch.nn.functional.conv2d(x, torch.randn(3, 3, 3, 3), padding=1)
        assert y.dtype == torch.bfloat16
        out = loss(y, x)
        up = pil_bicubic_resize(x, 128, quantize=True)
    assert seen == [torch.float32, torch.float32] and out.dtype == torch.float32
    assert up.dtype == torch.float32 and torch.equal(up, pil_bicubic_resize(x, 128, quantize=True))


def train(tmp_path, opt_path, *extra):
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.train', '-opt', opt_path, *extra],
                            env=python_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def assert_float32_checkpoints(folder):
    for name in os.listdir(folder):
        state = torch.load(os.path.join(folder, name), weights_only=True)
        for key, tensor in state['params'].items():
            assert not tensor.is_floating_point() or tensor.dtype == torch.float32, (name, key)


RECIPES = ['MRRNet', 'SPARNet', 'MRRGAN', 'SPARNetHD', 'DegradationGAN']


@pytest.mark.slow
@pytest.mark.parametrize('recipe', RECIPES)
def test_bf16_trains_every_recipe_on_cpu_with_float32_checkpoints(recipe, face_lmdbs, real_lr_faces,
                                                                  random_vgg19_weights, tmp_path):
    path = tmp_path / f'{recipe}.yml'
    if recipe == 'SPARNetHD':
        sparnethd_options(path, face_lmdbs, 'bf16_SPARNetHD', 2, random_vgg19_weights)
    elif recipe == 'DegradationGAN':
        degradation_gan_options(path, face_lmdbs, real_lr_faces, 'bf16_DegradationGAN', 2)
    else:
        network = {'type': 'SPARNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1, 'norm_type': 'bn'} \
            if recipe == 'SPARNet' else None
        extras = dict(zip(('train_extra', 'top_extra'), gan_training_extras(random_vgg19_weights))) \
            if recipe == 'MRRGAN' else {}
        write_options(path, tiny_training_dict(face_lmdbs, f'bf16_{recipe}', 2, network_g=network,
                                               model_type='MRRGANModel' if recipe == 'MRRGAN' else 'FaceSRModel',
                                               **extras))
    # the perceptual loss through relu1_2 only: emulated bf16 convolutions of a VGG19 up to conv5_4 took 7.5 minutes
    # of this CPU for two MRRGAN steps; the bf16 plumbing is the same with the short trunk (the full loss: fp32 tests)
    if recipe in ('MRRGAN', 'SPARNetHD'):
        opt = yaml.safe_load(path.read_text())
        opt['train']['perceptual_opt']['layer_weights'] = {'relu1_2': 1.0}
        write_options(path, opt)
    log = train(tmp_path, str(path), '--force_yml', 'train:precision=bf16', 'val:precision=bf16')
    assert 'Validation' in log and 'nan' not in log.split('Start training')[1].lower()
    assert_float32_checkpoints(tmp_path / 'experiments' / f'bf16_{recipe}' / 'models')


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='fp16 training needs a CUDA device')
@pytest.mark.parametrize('precision', ['fp16', 'bf16'])
def test_cuda_mixed_precision_trains_and_resumes_with_the_grad_scaler(precision, face_lmdbs, tmp_path):
    opt = tiny_training_dict(face_lmdbs, f'cuda_{precision}', 4, train_extra={'precision': precision},
                             top_extra={'num_gpu': 1})
    path = write_options(tmp_path / 'cuda.yml', opt)
    train(tmp_path, path)
    state = torch.load(tmp_path / 'experiments' / f'cuda_{precision}' / 'training_states' / '4.state',
                       weights_only=True)
    assert ('grad_scaler' in state) == (precision == 'fp16')
    assert_float32_checkpoints(tmp_path / 'experiments' / f'cuda_{precision}' / 'models')
    opt['train']['total_iter'] = 6
    log = train(tmp_path, write_options(tmp_path / 'cuda.yml', opt), '--auto_resume')
    assert 'Resuming training from epoch: 0, iter: 4.' in log
