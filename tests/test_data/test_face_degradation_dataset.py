import random

import cv2
import numpy as np
import pytest
import torch
from basicsr.data import build_dataset

from mrr_plugin.data.face_degradation_dataset import degrade, motion_kernel


def make_opt(folder, **extra):
    opt = {'name': 'degraded', 'type': 'FaceDegradationDataset', 'dataroot_gt': folder, 'io_backend': {'type': 'disk'},
           'phase': 'train', 'gt_size': 64, 'down_size': [16, 48]}
    opt.update(extra)
    return opt


def seed(value):
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def test_registered_reproducible_and_random(synthetic_faces):
    dataset = build_dataset(make_opt(synthetic_faces))
    seed(3)
    first = [dataset[i]['lq'] for i in range(4)]
    seed(3)
    again = [dataset[i]['lq'] for i in range(4)]
    for a, b in zip(first, again):
        torch.testing.assert_close(a, b)
    assert first[0].shape == (3, 64, 64)
    seed(4)
    assert not all(torch.equal(a, dataset[i]['lq']) for i, a in enumerate(first))


def test_without_random_steps_it_is_down_and_up_resizing():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    opt = {'gray_prob': 0, 'blur_prob': 0, 'noise_prob': 0, 'jpeg_prob': 0, 'down_size': [16, 16],
           'interpolations': ['area'], 'lq_size': 64}
    lq, hr_out = degrade(hr, opt)
    expected = cv2.resize(cv2.resize(hr, (16, 16), interpolation=cv2.INTER_AREA), (64, 64),
                          interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(lq, expected)
    assert hr_out is hr


def test_grayscale_reaches_hr_too_and_probabilities_hold():
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    seed(0)
    gray = 0
    for _ in range(400):
        lq, out = degrade(hr, {'gray_prob': 0.3, 'noise_prob': 0, 'jpeg_prob': 0, 'down_size': [8, 16], 'lq_size': 16})
        if np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2]):
            gray += 1
            assert np.array_equal(lq[..., 0], lq[..., 1])
    assert gray / 400 == pytest.approx(0.3, abs=0.06)


def test_each_blur_blurs_and_motion_kernel_is_a_normalised_line():
    kernel = motion_kernel(9, 0)
    assert kernel.sum() == pytest.approx(1.0) and np.count_nonzero(kernel[4]) == 9
    yy, xx = np.mgrid[0:64, 0:64]
    hr = np.repeat((((yy // 4 + xx // 4) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)  # checkerboard
    for kind in ('gaussian', 'average', 'median', 'motion'):
        seed(0)
        lq, _ = degrade(hr, {'gray_prob': 0, 'blur_prob': 1, 'blur_types': [kind], 'noise_prob': 0, 'jpeg_prob': 0,
                             'down_size': [64, 64], 'interpolations': ['nearest'], 'lq_size': 64,
                             'motion_kernel': [9, 9], 'median_kernel': [15, 15], 'average_kernel': [9, 9]})
        assert np.abs(lq.astype(int) - hr).mean() > 20, kind
    with pytest.raises(ValueError, match='Unknown blur type'):
        seed(0)
        degrade(hr, {'blur_prob': 1, 'blur_types': ['zoom'], 'gray_prob': 0})


def test_x8_configuration_gives_16px_inputs(synthetic_faces):
    dataset = build_dataset(make_opt(synthetic_faces, gt_size=128, down_size=[8, 16], lq_size=16))
    seed(0)
    sample = dataset[0]
    assert sample['lq'].shape == (3, 16, 16) and sample['gt'].shape == (3, 128, 128)
