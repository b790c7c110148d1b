"""PSNR / SSIM under the DIC protocol (DIC, CVPR 2020; reused by SPARNet and MRRNet tables).

Protocol: Y = MATLAB BT.601 luma computed from **RGB** (16 + (65.481 R + 128.553 G + 24.966 B) / 255), rounded to
uint8 values, an 8-pixel border cropped, PSNR on [0, 255], SSIM with an 11x11 Gaussian window (sigma 1.5, valid
filtering, K1 = 0.01, K2 = 0.03). BasicSR's own ``calculate_psnr/ssim(test_y_channel=True)`` differ by not
rounding Y. Applying the RGB weights to OpenCV's BGR arrays (as one public script does) inflates PSNR by ~0.14 dB
on faces; these functions take the channel order explicitly.
"""
import cv2
import numpy as np
import torch
from basicsr.utils.registry import METRIC_REGISTRY

MATLAB_Y_WEIGHTS_1000 = np.array([65481, 128553, 24966], dtype=np.int64)  # BT.601 x 1000, for [0, 255] input


def dic_y(img, channel_order='bgr', input_order='HWC'):
    """Y channel (H, W, float64 holding uint8 values) of a uint8 colour image given in ``channel_order``.

    Computed exactly in integers and rounded half up, as MATLAB's ``rgb2ycbcr`` on uint8 does (float formulas
    round the frequent exact ties either way, which moves PSNR by ~1e-4 dB).
    """
    img = np.asarray(img)
    if img.dtype != np.uint8:
        if np.any(img != np.round(img)) or img.min() < 0 or img.max() > 255:
            raise ValueError('DIC metrics take uint8 images (values 0-255); quantise SR outputs first.')
        img = img.astype(np.uint8)
    if input_order == 'CHW':
        img = img.transpose(1, 2, 0)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'Expected an H x W x 3 colour image, got shape {img.shape}.')
    if channel_order == 'bgr':
        img = img[..., ::-1]
    elif channel_order != 'rgb':
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
    numerator = img.astype(np.int64) @ MATLAB_Y_WEIGHTS_1000 + 16 * 255000 + 127500
    return (numerator // 255000).astype(np.float64)


def _crop(y, crop_border):
    return y[crop_border:-crop_border, crop_border:-crop_border] if crop_border else y


def psnr_y(y1, y2):
    """PSNR (dB) of two Y arrays on [0, 255]; inf when identical."""
    mse = np.mean((y1 - y2)**2)
    return float('inf') if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim_y(y1, y2):
    """Mean SSIM of two Y arrays on [0, 255] with an 11x11 Gaussian (sigma 1.5) window, valid region only."""
    c1, c2 = (0.01 * 255)**2, (0.03 * 255)**2
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())

    def filtered(x):
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]

    mu1, mu2 = filtered(y1), filtered(y2)
    sigma1 = filtered(y1 * y1) - mu1**2
    sigma2 = filtered(y2 * y2) - mu2**2
    sigma12 = filtered(y1 * y2) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / ((mu1**2 + mu2**2 + c1) * (sigma1 + sigma2 + c2))
    return float(ssim_map.mean())


@METRIC_REGISTRY.register()
def calculate_psnr_dic(img, img2, crop_border=8, input_order='HWC', channel_order='bgr', **kwargs):
    """DIC-protocol PSNR. ``img``/``img2``: uint8-range images; BasicSR's validation passes BGR (the default)."""
    return psnr_y(_crop(dic_y(img, channel_order, input_order), crop_border),
                  _crop(dic_y(img2, channel_order, input_order), crop_border))


@METRIC_REGISTRY.register()
def calculate_ssim_dic(img, img2, crop_border=8, input_order='HWC', channel_order='bgr', **kwargs):
    """DIC-protocol SSIM. ``img``/``img2``: uint8-range images; BasicSR's validation passes BGR (the default)."""
    return ssim_y(_crop(dic_y(img, channel_order, input_order), crop_border),
                  _crop(dic_y(img2, channel_order, input_order), crop_border))


def _gaussian_filter_valid(x):
    """Valid 11x11 Gaussian (sigma 1.5) filtering of (N, 1, H, W) float64, as two separable 1-D passes."""
    kernel = torch.from_numpy(cv2.getGaussianKernel(11, 1.5)).to(x.device).view(1, 1, 11, 1)
    return torch.conv2d(torch.conv2d(x, kernel), kernel.view(1, 1, 1, 11))


def psnr_ssim_dic_batch(sr, hr, crop_border=8):
    """DIC-protocol PSNR and SSIM of whole batches at once: RGB uint8 tensors (N, 3, H, W) -> two (N,) tensors.

    Same integer Y and float64 arithmetic as :func:`calculate_psnr_dic` / :func:`calculate_ssim_dic`, so the
    values agree with the per-image functions to float64 rounding; runs on any device.
    """
    weights = torch.as_tensor(MATLAB_Y_WEIGHTS_1000, device=sr.device).view(1, 3, 1, 1)

    def luma(rgb):
        numerator = (rgb.to(torch.int64) * weights).sum(1, keepdim=True) + 16 * 255000 + 127500
        y = torch.div(numerator, 255000, rounding_mode='floor').to(torch.float64)
        return y[..., crop_border:-crop_border, crop_border:-crop_border] if crop_border else y

    y1, y2 = luma(sr), luma(hr)
    mse = ((y1 - y2)**2).mean(dim=(1, 2, 3))
    psnr = 10 * torch.log10(255.0**2 / mse)
    c1, c2 = (0.01 * 255)**2, (0.03 * 255)**2
    mu1, mu2 = _gaussian_filter_valid(y1), _gaussian_filter_valid(y2)
    sigma1 = _gaussian_filter_valid(y1 * y1) - mu1**2
    sigma2 = _gaussian_filter_valid(y2 * y2) - mu2**2
    sigma12 = _gaussian_filter_valid(y1 * y2) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / ((mu1**2 + mu2**2 + c1) * (sigma1 + sigma2 + c2))
    return psnr, ssim_map.mean(dim=(1, 2, 3))
