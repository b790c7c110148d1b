import random

import numpy as np
import pytest
import torch
from basicsr.data import build_dataset
from PIL import Image

from mrr_plugin.data.face_bicubic_dataset import FaceBicubicDataset


def make_opt(dataroot, phase='train', backend='lmdb', **extra):
    opt = {'name': 'faces', 'type': 'FaceBicubicDataset', 'dataroot_gt': dataroot, 'io_backend': {'type': backend},
           'phase': phase, 'scale': 8, 'gt_size': 128}
    opt.update(extra)
    return opt


def to_pil(tensor):
    return Image.fromarray((tensor.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8))


def test_built_through_basicsr_registry(face_lmdbs):
    dataset = build_dataset(make_opt(face_lmdbs['train_hr']))
    assert isinstance(dataset, FaceBicubicDataset) and len(dataset) == 24
    sample = dataset[0]
    assert sample['lq'].shape == (3, 16, 16) and sample['gt'].shape == (3, 128, 128)
    assert sample['lq'].dtype == torch.float32 and 0 <= sample['gt'].min() and sample['gt'].max() <= 1


def test_val_phase_lr_equals_the_dic_test_lr(face_lmdbs, face_pairs):
    """Without augmentation the on-the-fly LR is byte-identical to the DIC test-set LR (PIL bicubic 128 -> 16)."""
    hr_dir, lr_dir, names = face_pairs
    dataset = build_dataset(make_opt(face_lmdbs['train_hr'], phase='val'))
    for index in range(4):
        sample = dataset[index]
        name = f'{sample["gt_path"]}.png'
        assert name == names[index]
        dic_lr = np.asarray(Image.open(f'{lr_dir}/{name}').convert('RGB'))
        np.testing.assert_array_equal(np.asarray(to_pil(sample['lq'])), dic_lr)


def test_train_lr_is_pil_bicubic_of_the_augmented_hr(face_lmdbs):
    dataset = build_dataset(make_opt(face_lmdbs['train_hr']))
    torch.manual_seed(1)
    random.seed(1)
    for index in range(4):
        sample = dataset[index]
        expected = np.asarray(to_pil(sample['gt']).resize((16, 16), Image.BICUBIC))
        np.testing.assert_array_equal(np.asarray(to_pil(sample['lq'])), expected)


def test_augmentation_is_random_but_reproducible(face_lmdbs):
    dataset = build_dataset(make_opt(face_lmdbs['train_hr']))

    def draw(seed):
        torch.manual_seed(seed)
        random.seed(seed)
        return torch.stack([dataset[0]['gt'] for _ in range(3)])

    first, again, other = draw(5), draw(5), draw(6)
    torch.testing.assert_close(first, again)
    assert not torch.equal(first, other)
    assert not torch.equal(first[0], first[1])  # each draw is a different crop/flip
    val = build_dataset(make_opt(face_lmdbs['train_hr'], phase='val'))
    torch.testing.assert_close(val[0]['gt'], val[0]['gt'])


def test_folder_backend_and_resizing_of_other_sizes(tmp_path, synthetic_faces):
    Image.open(f'{synthetic_faces}/synthetic_00000.png').resize((200, 200)).save(tmp_path / 'big.png')
    dataset = build_dataset(make_opt(str(tmp_path), phase='val', backend='disk'))
    assert dataset[0]['gt'].shape == (3, 128, 128) and dataset[0]['lq'].shape == (3, 16, 16)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='meta_info.txt'):
        build_dataset(make_opt(str(tmp_path)))
    with pytest.raises(FileNotFoundError, match='not a folder'):
        build_dataset(make_opt(str(tmp_path / 'missing'), backend='disk'))
    with pytest.raises(ValueError, match='No faces found in dataroot_gt'):
        build_dataset(make_opt(str(tmp_path), backend='disk'))
    with pytest.raises(ValueError, match='multiple of scale'):
        build_dataset(make_opt(str(tmp_path), backend='disk', gt_size=100))


def test_corrupt_image_is_reported_by_name(tmp_path):
    with open(tmp_path / 'broken.png', 'wb') as f:
        f.write(b'garbage')
    dataset = build_dataset(make_opt(str(tmp_path), backend='disk'))
    with pytest.raises(ValueError, match='broken.png: cannot be decoded'):
        dataset[0]
