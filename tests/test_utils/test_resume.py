"""Resuming: the newest complete training state under the project root, read as data only; generator states."""
import os
import random

import numpy as np
import pytest
import torch

from mrr_plugin.compat import atomic_torch_save
from mrr_plugin.utils import resume
from tests.helpers.payload import Payload


def _opt(root, auto_resume=True):
    experiments = os.path.join(root, 'experiments', 'exp')
    return {
        'name': 'exp', 'auto_resume': auto_resume, 'network_g': {'type': 'MRRNet'},
        'path': {'resume_state': None, 'models': os.path.join(experiments, 'models'),
                 'training_states': os.path.join(experiments, 'training_states')}
    }


def _write_run(opt, iterations):
    """Training states and net_g / net_d checkpoints of ``iterations``."""
    opt['network_d'] = {'type': 'MRRPatchDiscriminator'}
    for folder in (opt['path']['training_states'], opt['path']['models']):
        os.makedirs(folder, exist_ok=True)
    for it in iterations:
        atomic_torch_save({'iter': it, 'epoch': 0, 'optimizers': [], 'schedulers': []},
                          os.path.join(opt['path']['training_states'], f'{it}.state'))
        for label in ('g', 'd'):
            atomic_torch_save({'params': {'w': torch.ones(1)}},
                              os.path.join(opt['path']['models'], f'net_{label}_{it}.pth'))


def test_auto_resume_finds_states_under_project_root_from_any_cwd_on_cpu(tmp_path, monkeypatch):
    opt = _opt(str(tmp_path / 'project'))
    os.makedirs(opt['path']['training_states'])
    os.makedirs(opt['path']['models'])
    for it in (10, 200, 30):
        atomic_torch_save({'iter': it, 'epoch': 0, 'optimizers': [], 'schedulers': []},
                          os.path.join(opt['path']['training_states'], f'{it}.state'))
        atomic_torch_save({'params': {}}, os.path.join(opt['path']['models'], f'net_g_{it}.pth'))
    monkeypatch.chdir(tmp_path)  # a cwd without experiments/: upstream would silently start from scratch
    state = resume.load_resume_state(opt)
    assert state['iter'] == 200
    assert opt['path']['resume_state'].endswith('200.state')
    assert opt['path']['pretrain_network_g'].endswith('net_g_200.pth')


def test_truncated_newest_state_is_skipped(tmp_path):
    opt = _opt(str(tmp_path))
    states = opt['path']['training_states']
    os.makedirs(states)
    atomic_torch_save({'iter': 4, 'epoch': 0}, os.path.join(states, '4.state'))
    with open(os.path.join(states, '8.state'), 'wb') as f:
        f.write(b'PK\x03\x04truncated')
    assert resume.newest_complete_state(states)[0].endswith('4.state')


def test_auto_resume_never_runs_code_from_a_state_file(tmp_path, capsys):
    opt = _opt(str(tmp_path))
    states = opt['path']['training_states']
    _write_run(opt, (4, ))
    marker = tmp_path / 'marker'
    torch.save({'iter': 99, 'epoch': 0, 'payload': Payload(str(marker))}, os.path.join(states, '99.state'))
    state = resume.load_resume_state(opt)
    assert state['iter'] == 4 and not marker.exists()
    message = capsys.readouterr().out
    assert '99.state' in message and 'nothing in it was run' in message and 'weights_only=False' not in message
    opt = _opt(str(tmp_path), auto_resume=False)
    opt['path']['resume_state'] = os.path.join(states, '99.state')
    with pytest.raises(resume.UnsafeOrBrokenFile, match='99.state') as error:
        resume.load_resume_state(opt)
    assert 'weights_only=False' not in str(error.value) and not marker.exists()


@pytest.mark.parametrize('damage', ['missing', 'truncated'])
def test_auto_resume_falls_back_when_a_network_file_of_the_newest_state_is_lost(damage, tmp_path, capsys):
    opt = _opt(str(tmp_path))
    _write_run(opt, (4, 8))
    lost = os.path.join(opt['path']['models'], 'net_d_8.pth')
    if damage == 'missing':
        os.remove(lost)
    else:
        with open(lost, 'r+b') as f:
            f.truncate(40)
    state = resume.load_resume_state(opt)
    assert state['iter'] == 4 and opt['path']['pretrain_network_d'].endswith('net_d_4.pth')
    message = capsys.readouterr().out
    assert '8.state' in message and 'net_d_8.pth' in message and 'trying the previous one' in message


def test_stale_temporary_files_of_killed_writes_are_removed_at_start(tmp_path):
    opt = _opt(str(tmp_path))
    _write_run(opt, (4, ))
    stale = [os.path.join(opt['path']['training_states'], '6.state.tmp4242'),
             os.path.join(opt['path']['models'], 'net_g_6.pth.tmp4242')]
    for path in stale:
        with open(path, 'wb') as f:
            f.write(b'half a checkpoint')
    assert resume.load_resume_state(opt)['iter'] == 4
    assert not any(os.path.exists(path) for path in stale)
    assert sorted(os.listdir(opt['path']['models'])) == ['net_d_4.pth', 'net_g_4.pth']


def test_missing_explicit_resume_state_is_a_clear_error(tmp_path):
    opt = _opt(str(tmp_path), auto_resume=False)
    opt['path']['resume_state'] = str(tmp_path / 'nope.state')
    with pytest.raises(FileNotFoundError, match='nope.state'):
        resume.load_resume_state(opt)


def test_generator_states_survive_a_weights_only_round_trip(tmp_path):
    """What a training state stores of Python's, numpy's and torch's generators loads as data and restores them."""
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # a cached Gaussian in numpy's state
    atomic_torch_save({'rng': resume.capture_rng_states()}, str(tmp_path / 's.state'))
    expected = random.random(), np.random.randn(), np.random.rand(), torch.rand(2)
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    resume.restore_rng_states(resume.load_training_state(str(tmp_path / 's.state'))['rng'])
    again = random.random(), np.random.randn(), np.random.rand(), torch.rand(2)
    assert expected[:3] == again[:3] and torch.equal(expected[3], again[3])


def test_preserved_rng_states_undo_what_a_block_draws():
    torch.manual_seed(0)
    with resume.preserved_rng_states():
        torch.rand(5), random.random(), np.random.rand()
        torch.manual_seed(7)
    after = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(after, torch.rand(1))
