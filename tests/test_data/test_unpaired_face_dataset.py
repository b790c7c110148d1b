import cv2
import numpy as np
import pytest
import torch
from basicsr.data import build_dataset
from PIL import Image


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(0)
    hr, lr = tmp_path / 'hr', tmp_path / 'lr'
    hr.mkdir()
    lr.mkdir()
    for index in range(5):
        Image.fromarray(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(hr / f'{index}.png')
    for index in range(3):
        Image.fromarray(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(lr / f'w{index}.jpg')
    return str(hr), str(lr)


def make(folders, phase, **extra):
    return build_dataset({'name': 'unpaired', 'type': 'UnpairedFaceDataset', 'dataroot_hr': folders[0],
                          'dataroot_real_lr': folders[1], 'io_backend': {'type': 'disk'}, 'phase': phase,
                          'hr_size': 64, 'lr_size': 16, **extra})


def test_sizes_keys_and_area_resizing(folders):
    dataset = make(folders, 'val')
    item = dataset[4]
    assert len(dataset) == 5 and item['hr'].shape == (3, 64, 64) and item['real_lr'].shape == (3, 16, 16)
    assert item['real_lr_path'].endswith('w1.jpg')  # fixed pairs outside training: 4 mod 3
    real = np.asarray(Image.open(item['real_lr_path']).convert('RGB'))
    expected = cv2.resize(real, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    np.testing.assert_allclose(item['real_lr'].permute(1, 2, 0).numpy(), expected)
    assert item['lq_path'] == item['hr_path']


def test_training_draws_real_faces_independently(folders):
    dataset = make(folders, 'train')
    import random
    random.seed(0)
    drawn = {dataset[0]['real_lr_path'] for _ in range(30)}
    assert len(drawn) == 3
    random.seed(1)
    first = dataset[2]
    random.seed(1)
    torch.testing.assert_close(first['real_lr'], dataset[2]['real_lr'])


def test_clear_errors(folders, tmp_path):
    with pytest.raises(FileNotFoundError, match='dataroot_real_lr'):
        make((folders[0], str(tmp_path / 'missing')), 'train')
    with pytest.raises(ValueError, match='lr_interpolation'):
        make(folders, 'train', lr_interpolation='lanczos')


def test_non_image_files_beside_the_faces_are_ignored(folders):
    import os
    with open(os.path.join(folders[1], 'README.md'), 'w') as f:
        f.write('real faces, no ground truth')
    dataset = make(folders, 'train')
    assert len(dataset.real_lr) == 3 and not any(p.endswith('.md') for p in dataset.real_lr.paths)
