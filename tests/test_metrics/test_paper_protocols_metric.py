"""Each paper's PSNR/SSIM protocol against its released formula: hand-computed values on tiny arrays, and the
original script's arithmetic written out independently, on faces the project draws."""
import numpy as np
import pytest
from basicsr.metrics import calculate_metric
from PIL import Image
from skimage.metrics import structural_similarity

from mrr_plugin.metrics.paper_protocols_metric import (PROTOCOLS, psnr_sfmnet, psnr_sparnet, sfmnet_y, sparnet_y,
                                                       ssim_sfmnet, ssim_sparnet)


def test_y_conversions_truncate_or_round_as_the_scripts_do():
    # R = 2: 16 + 2 * 65.481 / 255 = 16.5136 -> SPARNet truncates to 16, SFMNet rounds to 17
    # R = G = B = 255: 16 + 219 = 235 in both; R = 1: 16.2568 -> 16 in both
    rgb = np.array([[[2, 0, 0], [255, 255, 255], [1, 0, 0]]], dtype=np.uint8)
    assert sparnet_y(rgb).tolist() == [[16, 235, 16]]
    assert sfmnet_y(rgb).tolist() == [[17, 235, 16]]


def test_hand_computed_psnr_on_a_flat_face():
    """Two flat 32x32 faces whose Y differ by exactly 1 everywhere: MSE 1, PSNR = 20 log10(255) = 48.1308 dB."""
    hr = np.full((32, 32, 3), 100, np.uint8)
    sr = hr.copy()
    sr[..., 1] = 102  # G + 2: Y + 2 * 128.553 / 255 = +1.0083 -> one Y level up under both conversions
    assert sparnet_y(hr)[0, 0] + 1 == sparnet_y(sr)[0, 0] and sfmnet_y(hr)[0, 0] + 1 == sfmnet_y(sr)[0, 0]
    assert psnr_sparnet(sr, hr) == pytest.approx(20 * np.log10(255), abs=1e-9)
    assert psnr_sfmnet(sr, hr) == pytest.approx(48.1308, abs=1e-4)
    assert ssim_sparnet(hr, hr) == 1.0 and ssim_sfmnet(hr, hr) == 1.0


def scripts_formulas(sr, hr):
    """The two released scripts' arithmetic, written out: Face-SPARNet psnr_ssim.py (WFEN, MRRNet psnr_ssim.py)
    and SFMNet utils/metric.py."""
    k = np.array([65.481, 128.553, 24.966]) / 255.0
    y_sr, y_hr = (16 + np.matmul(sr, k)).astype(np.uint8), (16 + np.matmul(hr, k)).astype(np.uint8)
    sparnet = (10 * np.log10(255**2 / np.mean(np.square(y_sr.astype(float) - y_hr.astype(float)))),
               structural_similarity(y_hr, y_sr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255))
    crop_sr, crop_hr = sr[8:-8, 8:-8], hr[8:-8, 8:-8]

    def y(img):
        return (np.dot(img, [65.481, 128.553, 24.966]) / 255.0 + 16.0).round().astype(np.uint8)

    mse = np.mean((y(crop_sr).astype(np.float64) - y(crop_hr).astype(np.float64))**2)
    sfmnet = (20 * np.log10(255.0 / np.sqrt(mse)), structural_similarity(y(crop_sr), y(crop_hr), data_range=255))
    return sparnet, sfmnet


def test_protocols_follow_the_released_scripts_on_faces(face_pairs):
    hr_dir, lr_dir, names = face_pairs
    scores = {name: [] for name in PROTOCOLS}
    for name in names[:60]:
        hr = np.asarray(Image.open(f'{hr_dir}/{name}').convert('RGB'))
        up = np.asarray(Image.open(f'{lr_dir}/{name}').convert('RGB').resize((128, 128), Image.BICUBIC))
        (sparnet_psnr, sparnet_ssim), (sfmnet_psnr, sfmnet_ssim) = scripts_formulas(up, hr)
        assert psnr_sparnet(up, hr) == pytest.approx(sparnet_psnr, abs=1e-9)
        assert ssim_sparnet(up, hr) == pytest.approx(sparnet_ssim, abs=1e-9)
        assert psnr_sfmnet(up, hr) == pytest.approx(sfmnet_psnr, abs=1e-9)
        assert ssim_sfmnet(up, hr) == pytest.approx(sfmnet_ssim, abs=1e-9)
        for protocol, (psnr, ssim, _) in PROTOCOLS.items():
            scores[protocol].append((psnr(up, hr), ssim(up, hr)))
    means = {protocol: np.mean(values, axis=0) for protocol, values in scores.items()}
    # the same bicubic faces score differently (which is why tables disagree): every SSIM, and the PSNR of the
    # truncated (sparnet) and of the unrounded (basicsr) Y; dic and sfmnet round Y alike (they differ in ties only)
    assert len({round(m[1], 4) for m in means.values()}) == len(PROTOCOLS)
    assert len({round(means[p][0], 3) for p in ('dic', 'sparnet', 'basicsr')}) == 3
    assert abs(means['dic'][0] - means['sfmnet'][0]) < 0.01


def test_registered_for_basicsr_validation_with_bgr_input(face_pairs):
    hr_dir, lr_dir, names = face_pairs
    hr = np.asarray(Image.open(f'{hr_dir}/{names[0]}').convert('RGB'))
    up = np.asarray(Image.open(f'{lr_dir}/{names[0]}').convert('RGB').resize((128, 128), Image.BICUBIC))
    data = {'img': up[..., ::-1], 'img2': hr[..., ::-1]}
    assert calculate_metric(data, {'type': 'calculate_psnr_sparnet'}) == psnr_sparnet(up, hr)
    assert calculate_metric(data, {'type': 'calculate_ssim_sfmnet'}) == ssim_sfmnet(up, hr)
