"""Each basicsr 1.4.2 fix in mrr_plugin.compat, tested against the upstream behaviour it replaces."""
import os

import pytest
import torch

import mrr_plugin.compat as compat


def test_torchvision_functional_tensor_alias_lets_basicsr_degradations_import():
    import basicsr.data.degradations as degradations
    import torchvision.transforms.functional_tensor as functional_tensor
    assert degradations.rgb_to_grayscale is functional_tensor.rgb_to_grayscale


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
