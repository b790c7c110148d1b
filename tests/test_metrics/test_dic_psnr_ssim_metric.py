import numpy as np
import pytest
from basicsr.metrics import calculate_metric
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic, dic_y


def independent_y(rgb):
    """MATLAB rgb2ycbcr on uint8, written differently: integer numerator in float64, floor(x + 1/2)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return np.floor((65481 * r + 128553 * g + 24966 * b + 16 * 255000 + 127500) / 255000)


def bicubic_scores(faces):
    """(ours PSNR, ours SSIM, independent PSNR, independent SSIM) of PIL bicubic x8 on every pair of ``faces``."""
    hr_dir, lr_dir, names = faces
    ours_psnr, ours_ssim, ref_psnr, ref_ssim = [], [], [], []
    for name in names:
        hr = np.asarray(Image.open(f'{hr_dir}/{name}').convert('RGB'))
        up = np.asarray(Image.open(f'{lr_dir}/{name}').convert('RGB').resize((128, 128), Image.BICUBIC))
        ours_psnr.append(calculate_psnr_dic(up, hr, channel_order='rgb'))
        ours_ssim.append(calculate_ssim_dic(up, hr, channel_order='rgb'))
        y_up, y_hr = independent_y(up)[8:-8, 8:-8], independent_y(hr)[8:-8, 8:-8]
        ref_psnr.append(peak_signal_noise_ratio(y_hr, y_up, data_range=255))
        ref_ssim.append(structural_similarity(y_hr, y_up, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False, data_range=255))
    return np.array(ours_psnr), np.array(ours_ssim), np.array(ref_psnr), np.array(ref_ssim)


def test_agrees_with_an_independent_implementation(face_pairs):
    ours_psnr, ours_ssim, ref_psnr, ref_ssim = bicubic_scores(face_pairs)
    assert np.abs(ours_psnr - ref_psnr).max() < 1e-6
    assert np.abs(ours_ssim - ref_ssim).max() < 1e-6


def test_bicubic_on_the_real_dev_faces_is_the_published_anchor(dev_faces):
    ours_psnr, ours_ssim, ref_psnr, ref_ssim = bicubic_scores(dev_faces)
    assert np.abs(ours_psnr - ref_psnr).max() < 1e-6
    assert np.abs(ours_ssim - ref_ssim).max() < 1e-6
    # the published anchor is 23.58 dB / 0.6285 on all 1,000 DIC faces; these are 600 of them
    assert np.mean(ours_psnr) == pytest.approx(23.62, abs=0.1)
    assert np.mean(ours_ssim) == pytest.approx(0.628, abs=0.01)


def test_channel_order_matters_and_bgr_is_basicsrs_default(face_pairs):
    hr_dir, lr_dir, names = face_pairs
    hr = np.asarray(Image.open(f'{hr_dir}/{names[0]}').convert('RGB'))
    up = np.asarray(Image.open(f'{lr_dir}/{names[0]}').convert('RGB').resize((128, 128), Image.BICUBIC))
    rgb = calculate_psnr_dic(up, hr, channel_order='rgb')
    assert calculate_psnr_dic(up[..., ::-1], hr[..., ::-1]) == rgb  # BGR input, default order
    assert calculate_psnr_dic(up, hr, channel_order='bgr') != pytest.approx(rgb, abs=1e-3)  # the swap bug
    via_registry = calculate_metric({'img': up[..., ::-1], 'img2': hr[..., ::-1]}, {'type': 'calculate_psnr_dic'})
    assert via_registry == rgb


def test_y_rounding_crop_and_identities():
    white = np.full((32, 32, 3), 255, np.uint8)
    assert dic_y(white, 'rgb')[0, 0] == 235 and dic_y(np.zeros_like(white), 'rgb')[0, 0] == 16
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    assert calculate_psnr_dic(image, image) == float('inf')
    assert calculate_ssim_dic(image, image) == pytest.approx(1.0)
    damaged = image.copy()
    damaged[:8] = 0  # only inside the 8-pixel border: invisible to the protocol
    assert calculate_psnr_dic(damaged, image) == float('inf')
    assert calculate_psnr_dic(damaged, image, crop_border=0) < 20
    with pytest.raises(ValueError, match='uint8'):
        calculate_psnr_dic(image / 255.0, image)


def test_batched_torch_version_equals_the_per_image_protocol(face_pairs):
    import torch

    from mrr_plugin.metrics.dic_psnr_ssim_metric import psnr_ssim_dic_batch
    hr_dir, lr_dir, names = face_pairs
    hrs = [np.asarray(Image.open(f'{hr_dir}/{n}').convert('RGB')) for n in names[:16]]
    ups = [np.asarray(Image.open(f'{lr_dir}/{n}').convert('RGB').resize((128, 128), Image.BICUBIC)) for n in names[:16]]
    psnr, ssim = psnr_ssim_dic_batch(torch.from_numpy(np.stack(ups)).permute(0, 3, 1, 2),
                                     torch.from_numpy(np.stack(hrs)).permute(0, 3, 1, 2))
    for i, (up, hr) in enumerate(zip(ups, hrs)):
        assert psnr[i].item() == pytest.approx(calculate_psnr_dic(up, hr, channel_order='rgb'), abs=1e-9)
        assert ssim[i].item() == pytest.approx(calculate_ssim_dic(up, hr, channel_order='rgb'), abs=1e-9)
