"""A run killed with SIGKILL and resumed with ``--auto_resume`` is the run that was never stopped: the same loss at
every logged iteration, the same validation scores and bit-identical final weights (CPU, 0 and 2 loader workers).

The runs use real augmentation (random flips and rescales), an epoch of 6 iterations (24 faces, batch 4), states
every 2 iterations and validation every 3, so kills land mid-epoch, after a validation that is not at a checkpoint,
and resumes cross epoch boundaries.
"""
import copy
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import degradation_gan_options, python_env, tiny_training_dict, write_options
from tests.helpers.face_landmarks import write_generated_landmarks

pytestmark = pytest.mark.slow
TOTAL_ITER = 10


# the recipes of the field's methods at toy size: (model, network, what their training step adds)
DIC_TOY = {'type': 'DIC', 'num_features': 8, 'num_groups': 2, 'num_steps': 2, 'hg_num_feature': 16,
           'num_fusion_block': 1}
FIELD_RECIPES = {
    'WFEN': ('FaceSRModel', {'type': 'WFEN', 'min_ch': 8, 'res_depth': 2}, {}),
    'SFMNet': ('SFMNetModel', {'type': 'SFMNet', 'num_features': 16, 'num_blocks': 1},
               {'fourier_opt': {'type': 'FourierLoss', 'amplitude_weight': 0.01, 'phase_weight': 0.01}}),
    'DIC': ('DICModel', DIC_TOY, {'heatmap_opt': {'type': 'MSELoss', 'loss_weight': 0.1}, 'hourglass_frozen_iters': 4}),
    'DICGAN': ('DICGANModel', DIC_TOY,
               {'heatmap_opt': {'type': 'MSELoss', 'loss_weight': 0.1}, 'hourglass_frozen_iters': 100,
                'pixel_steps': 'last', 'optim_d': {'type': 'Adam', 'lr': 1e-4},
                'gan_opt': {'type': 'GANLoss', 'gan_type': 'vanilla', 'loss_weight': 0.005}}),
}


def options(tmp_path, lmdbs, model, workers, real_lr=None, precision='fp32', face_names=None):
    name = f'resume_{model}_{workers}_{precision}'
    path = tmp_path / f'{name}.yml'
    if model == 'DegradationGANModel':  # its H2L generator draws noise from torch's global generator
        degradation_gan_options(path, lmdbs, real_lr, name, TOTAL_ITER)
        import yaml
        opt = yaml.safe_load(path.read_text())
    elif model in FIELD_RECIPES:
        model_type, network, train = FIELD_RECIPES[model]
        opt = tiny_training_dict(lmdbs, name, TOTAL_ITER, model_type=model_type, workers=workers, batch=4,
                                 network_g=network, train_extra=copy.deepcopy(train))
        if model.startswith('DIC'):  # landmarks generated for the training faces; DIC trains without flips/rescales
            landmarks = tmp_path / 'landmarks.json'
            write_generated_landmarks(landmarks, [n.rsplit('.', 1)[0] for n in face_names[:24]])
            opt['datasets']['train'].update(type='FaceLandmarkDataset', landmarks=str(landmarks), use_hflip=False,
                                            use_rescale=False)
        if model == 'DICGAN':  # a Light CNN under their file name stands in for their identity network
            from mrr_plugin.archs.lightcnn_arch import LightCNNFeatures
            torch.manual_seed(5)
            torch.save(LightCNNFeatures().state_dict(), tmp_path / 'LightCNN_feature.pth')
            opt['train']['feature_opt'] = {'type': 'LightCNNFeatureLoss', 'loss_weight': 0.1,
                                           'weights_path': str(tmp_path / 'LightCNN_feature.pth')}
            opt['network_d'] = {'type': 'LightCNNDiscriminator'}
    else:
        opt = tiny_training_dict(lmdbs, name, TOTAL_ITER, model_type=model, workers=workers, batch=4)
    opt['datasets']['train'].update(num_worker_per_gpu=workers, batch_size_per_gpu=4)
    opt['val']['val_freq'] = 3
    opt['train']['precision'] = precision
    return write_options(path, opt), name


def command(opt_path, *extra):
    return [sys.executable, '-m', 'mrr_plugin.train', '-opt', opt_path, *extra]


def run_and_kill_at(root, opt_path, iteration, *extra):
    """Start a training run and SIGKILL it as soon as it has logged ``iteration``."""
    log_path = root / f'killed_at_{iteration}.log'
    with open(log_path, 'w') as log:
        process = subprocess.Popen(command(opt_path, *extra), env=python_env(root), stdout=log,
                                   stderr=subprocess.STDOUT)
    pattern = re.compile(rf'iter:\s+{iteration},')
    deadline = time.time() + 600
    try:
        while not pattern.search(log_path.read_text()):
            assert process.poll() is None, log_path.read_text()[-3000:]
            assert time.time() < deadline, 'the run did not reach the iteration in time'
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL


def run_to_end(root, opt_path, *extra):
    result = subprocess.run(command(opt_path, *extra), env=python_env(root), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def scalars_of_newest_events(folder):
    """{tag: {step: value}} of the newest TensorBoard event file in ``folder`` (the run that wrote last)."""
    files = sorted((os.path.join(folder, f) for f in os.listdir(folder) if 'tfevents' in f), key=os.path.getmtime)
    events = EventAccumulator(files[-1])
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()['scalars']}


def final_weights(root, name):
    """{file: state dict} of every network's ``*_latest.pth`` of the run."""
    folder = root / 'experiments' / name / 'models'
    return {f: torch.load(folder / f, weights_only=True)['params'] for f in os.listdir(folder) if 'latest' in f}


@pytest.mark.parametrize('model, workers, kills, precision', [
    ('FaceSRModel', 0, (7, ), 'fp32'),
    ('FaceSRModel', 2, (3, 9), 'fp32'),
    ('DegradationGANModel', 0, (5, ), 'fp32'),
    ('FaceSRModel', 0, (5, ), 'bf16'),
    ('WFEN', 0, (5, ), 'fp32'),
    ('SFMNet', 0, (5, ), 'fp32'),
    ('DIC', 2, (3, ), 'fp32'),
    ('DICGAN', 0, (7, ), 'fp32'),
])
def test_killed_and_resumed_run_equals_the_uninterrupted_run(model, workers, kills, precision, face_lmdbs, face_pairs,
                                                             real_lr_faces, tmp_path):
    opt_path, name = options(tmp_path, face_lmdbs, model, workers, real_lr_faces, precision, face_pairs[2])
    straight, interrupted = tmp_path / 'straight', tmp_path / 'interrupted'
    straight.mkdir(), interrupted.mkdir()
    run_to_end(straight, opt_path)
    expected = scalars_of_newest_events(straight / 'tb_logger' / name)

    run_and_kill_at(interrupted, opt_path, kills[0])
    for kill in kills[1:]:
        run_and_kill_at(interrupted, opt_path, kill, '--auto_resume')
    log = run_to_end(interrupted, opt_path, '--auto_resume')
    resumed_from = int(re.search(r'Resuming training from epoch: \d+, iter: (\d+)\.', log).group(1))
    assert resumed_from == (kills[-1] // 2) * 2  # the newest state before the last kill
    got = scalars_of_newest_events(interrupted / 'tb_logger' / name)

    loss_tags = [tag for tag in expected if tag.startswith('losses/')]
    assert loss_tags and all(sorted(got[tag]) == list(range(resumed_from + 1, TOTAL_ITER + 1)) for tag in loss_tags)
    for tag in loss_tags + [tag for tag in expected if tag.startswith('metrics/')]:
        for step, value in got[tag].items():
            assert value == expected[tag][step], (tag, step, value, expected[tag][step])
    straight_weights, resumed_weights = final_weights(straight, name), final_weights(interrupted, name)
    assert straight_weights and sorted(straight_weights) == sorted(resumed_weights)
    for file_name, state in straight_weights.items():
        for key, tensor in state.items():
            assert torch.equal(tensor, resumed_weights[file_name][key]), (file_name, key)


KILL_AT = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'helpers', 'kill_at.py')


def test_killed_while_moving_a_state_into_place_resumes_from_the_previous_one(face_lmdbs, tmp_path):
    """SIGKILL after ``6.state`` was written to its temporary file, before the rename: the run resumes from the
    state at 4, the temporary file is removed, and the result is the uninterrupted run's."""
    opt_path, name = options(tmp_path, face_lmdbs, 'FaceSRModel', 0)
    straight, interrupted = tmp_path / 'straight', tmp_path / 'interrupted'
    straight.mkdir(), interrupted.mkdir()
    run_to_end(straight, opt_path)
    killed = subprocess.run([sys.executable, KILL_AT, 'os.rename', '/6.state', '1', '-m', 'mrr_plugin.train',
                             '-opt', opt_path], env=python_env(interrupted), capture_output=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL
    states = interrupted / 'experiments' / name / 'training_states'
    assert sorted(os.listdir(states))[:2] == ['2.state', '4.state'] and any('.tmp' in f for f in os.listdir(states))
    log = run_to_end(interrupted, opt_path, '--auto_resume')
    assert 'Removed 1 temporary file(s) of interrupted checkpoint writes.' in log
    assert 'Resuming training from epoch: 0, iter: 4.' in log
    assert not any('.tmp' in f for f in os.listdir(states))
    straight_weights, resumed_weights = final_weights(straight, name), final_weights(interrupted, name)
    for key, tensor in straight_weights['net_g_latest.pth'].items():
        assert torch.equal(tensor, resumed_weights['net_g_latest.pth'][key]), key
