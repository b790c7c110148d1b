"""Each basicsr 1.4.2 fix in mrr_plugin.compat, tested against the upstream behaviour it replaces."""
import os
import shutil
import subprocess
import sys

import pytest
import torch

import mrr_plugin.compat as compat


def test_torchvision_functional_tensor_alias_lets_basicsr_degradations_import():
    import basicsr.data.degradations as degradations
    import torchvision.transforms.functional_tensor as functional_tensor
    assert degradations.rgb_to_grayscale is functional_tensor.rgb_to_grayscale


def test_basicsr_imports_on_its_own_in_the_installed_environment(tmp_path):
    """The start-up hook (mrr_basicsr_compat.pth in site-packages) makes BasicSR's own scripts run without
    mrr_plugin being imported: a fresh interpreter outside the checkout, importing basicsr first."""
    code = ('import sys; assert "torch" not in sys.modules, "the hook must not import anything at start-up"; '
            'import basicsr.data.degradations, torchvision.transforms.functional_tensor as f; '
            'from torchvision.transforms import _functional_tensor as g; assert f is g; '
            'assert "mrr_plugin" not in sys.modules; print("ok")')
    result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == 'ok', result.stderr[-2000:]


def test_console_commands_are_installed():
    bin_dir = os.path.dirname(sys.executable)
    for command in ('mrr-train', 'mrr-test', 'mrr-benchmark', 'mrr-restore', 'mrr-export-onnx', 'mrr-create-face-lmdb',
                    'mrr-prepare-celeba', 'mrr-prepare-faces', 'mrr-degrade-faces'):
        assert shutil.which(command, path=bin_dir), f'{command} is not installed (pip install -e .)'
    result = subprocess.run([os.path.join(bin_dir, 'mrr-create-face-lmdb'), '--hr', 'no_such_folder', '--out-hr',
                             'x.lmdb'], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.count('error:') == 1 and 'Traceback' not in result.stderr


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


def test_two_datasets_on_one_lmdb_in_one_process(face_lmdbs):
    """lmdb >= 2 refuses a second open of an environment per process; train and val often share one."""
    from basicsr.data import build_dataset
    opt = {'name': 'v', 'type': 'PairedImageDataset', 'dataroot_gt': face_lmdbs['val_hr'], 'phase': 'val',
           'dataroot_lq': face_lmdbs['val_lr'], 'io_backend': {'type': 'lmdb'}, 'scale': 8}
    first, second = build_dataset(opt), build_dataset(opt)
    torch.testing.assert_close(first[0]['gt'], second[0]['gt'])
    assert first[0]['lq'].shape == (3, 16, 16)


def test_missing_lmdb_key_and_missing_lmdb_are_clear_errors(face_lmdbs, tmp_path):
    from basicsr.utils import FileClient
    client = FileClient('lmdb', db_paths=[face_lmdbs['val_hr']], client_keys=['gt'])
    with pytest.raises(KeyError, match='no_such_face'):
        client.get('no_such_face', 'gt')
    with pytest.raises(FileNotFoundError, match='not an LMDB folder'):
        FileClient('lmdb', db_paths=[str(tmp_path)], client_keys=['gt'])
