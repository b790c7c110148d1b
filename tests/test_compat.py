"""Each basicsr 1.4.2 fix in mrr_plugin.compat, tested against the upstream behaviour it replaces."""
import os

import pytest
import torch

import mrr_plugin.compat as compat


def test_torchvision_functional_tensor_alias_lets_basicsr_degradations_import():
    import basicsr.data.degradations as degradations
    import torchvision.transforms.functional_tensor as functional_tensor
    assert degradations.rgb_to_grayscale is functional_tensor.rgb_to_grayscale


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
        compat.atomic_torch_save({'iter': it, 'epoch': 0, 'optimizers': [], 'schedulers': []},
                                 os.path.join(opt['path']['training_states'], f'{it}.state'))
        for label in ('g', 'd'):
            compat.atomic_torch_save({'params': {'w': torch.ones(1)}},
                                     os.path.join(opt['path']['models'], f'net_{label}_{it}.pth'))


def test_auto_resume_finds_states_under_project_root_from_any_cwd_on_cpu(tmp_path, monkeypatch):
    import basicsr.train
    assert basicsr.train.load_resume_state is compat.load_resume_state
    opt = _opt(str(tmp_path / 'project'))
    os.makedirs(opt['path']['training_states'])
    os.makedirs(opt['path']['models'])
    for it in (10, 200, 30):
        compat.atomic_torch_save({'iter': it, 'epoch': 0, 'optimizers': [], 'schedulers': []},
                                 os.path.join(opt['path']['training_states'], f'{it}.state'))
        compat.atomic_torch_save({'params': {}}, os.path.join(opt['path']['models'], f'net_g_{it}.pth'))
    monkeypatch.chdir(tmp_path)  # a cwd without experiments/: upstream would silently start from scratch
    state = compat.load_resume_state(opt)
    assert state['iter'] == 200
    assert opt['path']['resume_state'].endswith('200.state')
    assert opt['path']['pretrain_network_g'].endswith('net_g_200.pth')


def test_truncated_newest_state_is_skipped(tmp_path):
    opt = _opt(str(tmp_path))
    states = opt['path']['training_states']
    os.makedirs(states)
    compat.atomic_torch_save({'iter': 4, 'epoch': 0}, os.path.join(states, '4.state'))
    with open(os.path.join(states, '8.state'), 'wb') as f:
        f.write(b'PK\x03\x04truncated')
    assert compat.find_resume_state(states).endswith('4.state')


class _Payload:
    """Unpickling this object would create the file ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_auto_resume_never_runs_code_from_a_state_file(tmp_path, capsys):
    opt = _opt(str(tmp_path))
    states = opt['path']['training_states']
    _write_run(opt, (4, ))
    marker = tmp_path / 'marker'
    torch.save({'iter': 99, 'epoch': 0, 'payload': _Payload(str(marker))}, os.path.join(states, '99.state'))
    state = compat.load_resume_state(opt)
    assert state['iter'] == 4 and not marker.exists()
    message = capsys.readouterr().out
    assert '99.state' in message and 'nothing in it was run' in message and 'weights_only=False' not in message
    opt = _opt(str(tmp_path), auto_resume=False)
    opt['path']['resume_state'] = os.path.join(states, '99.state')
    with pytest.raises(compat.UnsafeOrBrokenFile, match='99.state') as error:
        compat.load_resume_state(opt)
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
    state = compat.load_resume_state(opt)
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
    assert compat.load_resume_state(opt)['iter'] == 4
    assert not any(os.path.exists(path) for path in stale)
    assert sorted(os.listdir(opt['path']['models'])) == ['net_d_4.pth', 'net_g_4.pth']


def test_missing_explicit_resume_state_is_a_clear_error(tmp_path):
    opt = _opt(str(tmp_path), auto_resume=False)
    opt['path']['resume_state'] = str(tmp_path / 'nope.state')
    with pytest.raises(FileNotFoundError, match='nope.state'):
        compat.load_resume_state(opt)


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    from basicsr.models import base_model
    assert base_model.torch.save is compat.atomic_torch_save
    target = tmp_path / 'net_g_latest.pth'
    compat.atomic_torch_save({'old': torch.ones(1)}, str(target))

    def crash(obj, path, *args, **kwargs):
        with open(path, 'wb') as f:
            f.write(b'half')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', crash)
    with pytest.raises(OSError):
        base_model.torch.save({'new': 1}, str(target))
    monkeypatch.undo()
    assert torch.load(str(target))['old'].item() == 1  # the previous checkpoint is intact
    assert os.listdir(tmp_path) == ['net_g_latest.pth']  # no temporary left behind


def test_two_datasets_on_one_lmdb_in_one_process(dev_lmdbs):
    """lmdb >= 2 refuses a second open of an environment per process; train and val often share one."""
    from basicsr.data import build_dataset
    opt = {'name': 'v', 'type': 'PairedImageDataset', 'dataroot_gt': dev_lmdbs['val_hr'], 'phase': 'val',
           'dataroot_lq': dev_lmdbs['val_lr'], 'io_backend': {'type': 'lmdb'}, 'scale': 8}
    first, second = build_dataset(opt), build_dataset(opt)
    torch.testing.assert_close(first[0]['gt'], second[0]['gt'])
    assert first[0]['lq'].shape == (3, 16, 16)


def test_missing_lmdb_key_and_missing_lmdb_are_clear_errors(dev_lmdbs, tmp_path):
    from basicsr.utils import FileClient
    client = FileClient('lmdb', db_paths=[dev_lmdbs['val_hr']], client_keys=['gt'])
    with pytest.raises(KeyError, match='no_such_face'):
        client.get('no_such_face', 'gt')
    with pytest.raises(FileNotFoundError, match='not an LMDB folder'):
        FileClient('lmdb', db_paths=[str(tmp_path)], client_keys=['gt'])


def test_distributed_backend_defaults_to_gloo_without_cuda_and_follows_the_option_file(tmp_path):
    options = tmp_path / 'opt.yml'
    options.write_text('dist_params:\n  backend: mpi\n')
    assert compat._backend_from_option_file(['train.py', '-opt', str(options)]) == 'mpi'
    assert compat._backend_from_option_file(['train.py', '--launcher', 'pytorch']) is None
    assert compat.default_dist_backend() == ('nccl' if torch.cuda.is_available() else 'gloo')
    import basicsr.utils.options
    assert basicsr.utils.options.init_dist is compat.init_dist


def test_cpu_model_is_wrapped_without_cuda_device_ids(monkeypatch):
    import torch.distributed as dist
    from basicsr.models.base_model import BaseModel
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29517')
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        model = BaseModel.__new__(BaseModel)
        model.opt, model.device = {'dist': True, 'num_gpu': 0}, torch.device('cpu')
        wrapped = model.model_to_device(torch.nn.Linear(2, 2))
        assert isinstance(wrapped, torch.nn.parallel.DistributedDataParallel) and wrapped.device_ids is None
    finally:
        dist.destroy_process_group()


def test_training_log_reports_data_wait_fraction():
    from basicsr.utils.logger import MessageLogger
    logger = MessageLogger({'name': 'x', 'logger': {'print_freq': 1, 'use_tb_logger': False},
                            'train': {'total_iter': 10}}, 1)
    log_vars = {'epoch': 0, 'iter': 1, 'lrs': [1e-4], 'time': 2.0, 'data_time': 0.5, 'l_pix': 0.1}
    logger(log_vars)
    assert log_vars['data_wait'] == 0.25


def test_validation_uses_the_bare_network_not_the_ddp_wrapper():
    """Rank 0 validates alone; calling the DDP wrapper there would start a buffer broadcast nobody joins."""
    from basicsr.models.sr_model import SRModel
    assert SRModel.test is compat._sr_model_test
    calls = []
    network = torch.nn.Conv2d(3, 3, 1)
    wrapper = torch.nn.Module()
    wrapper.module = network
    wrapper.forward = lambda x: calls.append('wrapper')
    model = SRModel.__new__(SRModel)
    model.net_g, model.lq = wrapper, torch.rand(1, 3, 4, 4)
    model.get_bare_model = lambda net: net.module
    model.test()
    assert calls == [] and model.output.shape == (1, 3, 4, 4) and network.training
