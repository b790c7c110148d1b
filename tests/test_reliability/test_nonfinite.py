"""Non-finite values: a training run stops before a NaN step and saves nothing non-finite; test and benchmark
refuse to score a network whose outputs are not finite."""
import os
import re
import subprocess
import sys

import pytest
import torch

from mrr_plugin.models.nonfinite_guard import NONFINITE_EXIT, NonFiniteGuard, NonFiniteTraining
from tests.conftest import gan_training_extras, python_env, tiny_training_dict, write_options


def saved_tensors(folder):
    """{file: [tensors]} of every checkpoint and training state under ``folder``."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(('.pth', '.state')):
                state = torch.load(os.path.join(root, name), map_location='cpu', weights_only=True)
                stack = [state]
                found[name] = []
                while stack:
                    item = stack.pop()
                    if torch.is_tensor(item):
                        found[name].append(item)
                    elif isinstance(item, dict):
                        stack.extend(item.values())
                    elif isinstance(item, (list, tuple)):
                        stack.extend(item)
    return found


@pytest.mark.parametrize('model', ['FaceSRModel', 'MRRGANModel'])
def test_nan_loss_stops_the_run_before_anything_non_finite_is_saved(model, face_lmdbs, tmp_path, random_vgg19_weights):
    """The learning rate jumps from 1e-3 to 1e10 after iteration 2: finite checkpoints at 2, then a NaN loss."""
    extras = {} if model == 'FaceSRModel' else dict(zip(('train_extra', 'top_extra'),
                                                        gan_training_extras(random_vgg19_weights)))
    opt = tiny_training_dict(face_lmdbs, f'nan_{model}', 8, model_type=model, **extras)
    opt['train']['scheduler'] = {'type': 'MultiStepLR', 'milestones': [2], 'gamma': 1e13}
    write_options(tmp_path / 'nan.yml', opt)
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.train', '-opt', str(tmp_path / 'nan.yml')],
                            env=python_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == NONFINITE_EXIT, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and 'Traceback' not in result.stderr
    assert re.search(r'non-finite loss (.*, )?cri_pix = -?(nan|inf)', errors[0])
    assert 'stopped before the optimizer step' in errors[0]
    iteration = int(errors[0].split('iteration ')[1].split(':')[0])
    assert 3 <= iteration < 8
    saved = saved_tensors(tmp_path / 'experiments' / f'nan_{model}')
    assert 'net_g_latest.pth' not in saved  # the run did not end as if it had finished
    assert 'net_g_2.pth' in saved and '2.state' in saved  # the checkpoints of the finite iterations are kept
    for name, tensors in saved.items():
        assert all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point()), name


class _Model:
    """The attributes a guarded model has: a loss, a network, its optimizer."""

    def __init__(self):
        self.cri_pix = torch.nn.L1Loss()
        self.net_g = torch.nn.Linear(2, 1)
        self.optimizers = [torch.optim.Adam(self.net_g.parameters(), lr=0.1)]


def test_a_non_finite_gradient_with_finite_losses_stops_before_the_step():
    model = _Model()
    guard = NonFiniteGuard(model)
    guard.start(7)
    before = [p.detach().clone() for p in model.net_g.parameters()]
    loss = model.cri_pix(model.net_g(torch.ones(1, 2)), torch.zeros(1, 1))  # finite
    loss.backward()
    model.net_g.weight.grad[0, 0] = float('inf')
    with pytest.raises(NonFiniteTraining, match=r'iteration 7: non-finite gradient \(all loss terms finite\) in '
                                                r'the net_g step'):
        model.optimizers[0].step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.net_g.parameters()))
    guard.start(8)
    model.optimizers[0].zero_grad()
    model.cri_pix(model.net_g(torch.ones(1, 2)), torch.zeros(1, 1)).backward()
    model.optimizers[0].step()  # finite again: steps as usual
    assert not torch.equal(before[0], model.net_g.weight)


@pytest.fixture
def nan_checkpoint(tmp_path):
    from basicsr.archs import build_network
    net = build_network({'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1})
    state = {k: torch.full_like(v, float('nan')) if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({'params': state}, tmp_path / 'nan.pth')
    return tmp_path / 'nan.pth'


def test_test_and_benchmark_refuse_a_network_with_non_finite_outputs(nan_checkpoint, face_lmdbs, face_pairs, tmp_path):
    import yaml
    options = {
        'name': 'nan_test', 'model_type': 'FaceSRModel', 'scale': 8, 'num_gpu': 0,
        'datasets': {'test_1': {'name': 'dev', 'type': 'PairedImageDataset', 'dataroot_gt': face_lmdbs['val_hr'],
                                'dataroot_lq': face_lmdbs['val_lr'], 'io_backend': {'type': 'lmdb'}}},
        'network_g': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
        'path': {'pretrain_network_g': str(nan_checkpoint), 'strict_load_g': True},
        'val': {'save_img': False, 'metrics': {'psnr': {'type': 'calculate_psnr_dic', 'crop_border': 8}}},
    }
    (tmp_path / 'test.yml').write_text(yaml.safe_dump(options))
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.test', '-opt', str(tmp_path / 'test.yml')],
                            env=python_env(tmp_path / 'project'), capture_output=True, text=True, timeout=600)
    assert result.returncode == NONFINITE_EXIT and 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert [line for line in result.stderr.splitlines() if line.startswith('error:')] == [
        'error: nan_test: network_g outputs non-finite values (NaN or infinity), so it is not scored; are its '
        'weights from a run that diverged?']

    hr, lr, _ = face_pairs
    spec = f'diverged={nan_checkpoint}@MRRNet:min_ch=8,max_ch=16,res_depth=1'
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--limit', '4',
                             '--out', str(tmp_path / 'out'), '--method', spec], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert '--method diverged: the network outputs non-finite values' in result.stderr
    assert not (tmp_path / 'out').exists()


def test_skip_mode_drops_non_finite_steps_and_stops_after_too_many_in_a_row(caplog):
    import logging
    model = _Model()
    model.opt = {'train': {'nonfinite': 'skip', 'max_nonfinite_skips': 2}}
    guard = NonFiniteGuard(model)
    logger = logging.getLogger('test_nonfinite')

    def step(iteration, bad):
        guard.start(iteration)
        model.optimizers[0].zero_grad()
        model.cri_pix(model.net_g(torch.ones(1, 2)) * (float('nan') if bad else 1), torch.zeros(1, 1)).backward()
        try:
            model.optimizers[0].step()
        except NonFiniteTraining as error:
            guard.skip(error, logger)
            return
        guard.step_taken()

    before = [p.detach().clone() for p in model.net_g.parameters()]
    with caplog.at_level(logging.WARNING):
        step(1, bad=True), step(2, bad=True)
    assert all(torch.equal(a, b) for a, b in zip(before, model.net_g.parameters()))  # both steps dropped
    assert all(p.grad is None for p in model.net_g.parameters())
    assert 'iteration 2: non-finite loss cri_pix = nan in the net_g step; step skipped (2 in a row, 2 in this run)' \
        in caplog.text
    step(3, bad=False)  # a finite step resets the count
    step(4, bad=True), step(5, bad=True)
    with pytest.raises(NonFiniteTraining, match=r'iteration 6: .*; 2 steps in a row were skipped before it'):
        step(6, bad=True)
    assert guard.skipped == 4


def test_skip_mode_end_to_end_counts_skips_and_saves_nothing_non_finite(face_lmdbs, tmp_path):
    opt = tiny_training_dict(face_lmdbs, 'nan_skip', 8, train_extra={'nonfinite': 'skip', 'max_nonfinite_skips': 2})
    opt['train']['scheduler'] = {'type': 'MultiStepLR', 'milestones': [2], 'gamma': 1e13}
    write_options(tmp_path / 'nan.yml', opt)
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.train', '-opt', str(tmp_path / 'nan.yml')],
                            env=python_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == NONFINITE_EXIT, result.stderr[-3000:]
    assert len(re.findall(r'train.nonfinite: skip: iteration \d+: non-finite .*; step skipped', result.stderr)) == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and '2 steps in a row were skipped before it (train.max_nonfinite_skips)' in errors[0]
    for name, tensors in saved_tensors(tmp_path / 'experiments' / 'nan_skip').items():
        assert all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point()), name
