from os import path as osp

import numpy as np
import pytest
from basicsr.metrics.niqe import calculate_niqe
from PIL import Image
from skimage import data

from mrr_plugin.metrics.niqe_set_metric import calculate_niqe_set, niqe_of_features


def test_one_image_of_whole_blocks_is_exactly_basicsr_niqe():
    image = data.astronaut()[:384, :480]  # 4 x 5 blocks of 96: BasicSR's corner blocks = our centred blocks
    expected = calculate_niqe(image[..., ::-1].astype(np.float32), crop_border=0)  # BasicSR takes BGR
    assert calculate_niqe_set([image], progress=False) == pytest.approx(expected, rel=1e-12)


def test_equation_10_by_hand():
    mu, cov = np.array([0.0, 0.0]), np.eye(2)
    features = np.array([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0], [np.nan, 1.0]])  # the NaN row: mean only, not cov
    mean = np.array([2.0, 2.5])  # nanmean per column
    sample = features[:3]
    centred = sample - sample.mean(0)
    sample_cov = centred.T @ centred / 2
    expected = np.sqrt(mean @ np.linalg.inv((cov + sample_cov) / 2) @ mean)
    assert niqe_of_features(features, mu, cov) == pytest.approx(expected, rel=1e-12)


def test_pooled_faces_rank_real_faces_above_their_bicubic_versions(dev_faces):
    hr, _, names = dev_faces
    faces = [np.asarray(Image.open(osp.join(hr, name)).convert('RGB')) for name in names[:60]]
    blurred = [np.asarray(Image.fromarray(f).resize((16, 16), Image.BICUBIC).resize((128, 128), Image.BICUBIC))
               for f in faces]
    real, bicubic = calculate_niqe_set(faces, progress=False), calculate_niqe_set(blurred, progress=False)
    assert 0 < real < bicubic and bicubic - real > 3  # 2.7 vs 11.3 on 200 faces


def test_too_small_images_are_one_sentence():
    with pytest.raises(ValueError, match=r'at least two 96x96 blocks.*1 image\(s\), 0 block\(s\)'):
        calculate_niqe_set([np.zeros((64, 64, 3), np.uint8)], progress=False)
