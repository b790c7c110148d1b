"""PSNR / SSIM the way each face-SR paper's released evaluation script computes them, so numbers compare with its table.

Face-SR papers do not score alike; each protocol here re-implements one released script (named in its docstring)
on uint8 RGB faces (H, W, 3):

- ``dic``: DIC (Ma et al., CVPR 2020), ``utils/util.py:calc_metrics`` (:mod:`.dic_psnr_ssim_metric`): Y rounded,
  8-pixel border, 11x11 Gaussian SSIM (valid region). MRRNet's checkout ships the same file
  (``DIC_psnr_ssim_metric.py``).
- ``sparnet``: Face-SPARNet (Chen et al., TIP 2020), ``psnr_ssim.py``: ``Y = (16 + RGB . K).astype(uint8)``
  (truncated), no border, SSIM ``compare_ssim(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` on
  the whole face. WFEN (ACM MM 2024) and MRRNet's ``psnr_ssim.py`` are this script.
- ``sfmnet``: SFMNet (Wang et al., CVPR 2023), ``utils/metric.py:torch_psnr``: 8-pixel border cropped from the
  RGB face, Y rounded half to even (numpy's ``round``), SSIM ``structural_similarity(data_range=255)`` with
  scikit-image's defaults (7x7 uniform window, sample covariance).
- ``basicsr``: BasicSR's ``calculate_psnr`` / ``calculate_ssim`` with ``crop_border=8, test_y_channel=True``
  (Y not rounded).

``PROTOCOLS[name]`` is ``(psnr(sr, hr), ssim(sr, hr), source)``; the ``calculate_{psnr,ssim}_{sparnet,sfmnet}``
metrics serve BasicSR's validation (BGR HWC images, as it passes them).
"""
import numpy as np
from basicsr.metrics import calculate_psnr, calculate_ssim
from basicsr.utils.registry import METRIC_REGISTRY
from skimage.metrics import structural_similarity

from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic

MATLAB_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])


def _rgb(img, channel_order='rgb', input_order='HWC'):
    img = np.asarray(img)
    if input_order == 'CHW':
        img = img.transpose(1, 2, 0)
    if img.dtype != np.uint8:
        if np.any(img != np.round(img)) or img.min() < 0 or img.max() > 255:
            raise ValueError('Protocol metrics take uint8 images (values 0-255); quantise SR outputs first.')
        img = img.astype(np.uint8)
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
    return img[..., ::-1] if channel_order == 'bgr' else img


def _psnr(y1, y2):
    mse = np.mean((y1.astype(np.float64) - y2.astype(np.float64))**2)
    return float('inf') if mse == 0 else float(10 * np.log10(255.0**2 / mse))


# ---------------------------------------------------------------------------------------------- Face-SPARNet
def sparnet_y(rgb):
    """``rgb2y_matlab`` of Face-SPARNet's psnr_ssim.py: ``16 + RGB . K / 255`` truncated to uint8."""
    return (16 + np.matmul(rgb, MATLAB_Y_WEIGHTS / 255.0)).astype(np.uint8)


def psnr_sparnet(sr, hr, channel_order='rgb', input_order='HWC'):
    """Face-SPARNet ``psnr_ssim.py:PSNR``: truncated Y, whole face."""
    return _psnr(sparnet_y(_rgb(sr, channel_order, input_order)), sparnet_y(_rgb(hr, channel_order, input_order)))


def ssim_sparnet(sr, hr, channel_order='rgb', input_order='HWC'):
    """Face-SPARNet ``psnr_ssim.py:SSIM``: ``compare_ssim(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` of the truncated Y (uint8: data range 255), whole face."""
    return float(structural_similarity(sparnet_y(_rgb(hr, channel_order, input_order)),
                                       sparnet_y(_rgb(sr, channel_order, input_order)), gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False, data_range=255))


# ------------------------------------------------------------------------------------------------------ SFMNet
def sfmnet_y(rgb):
    """``rgb2ycbcr(only_y=True)`` of SFMNet's utils/metric.py on uint8: ``RGB . K / 255 + 16``, numpy-rounded."""
    return (np.dot(rgb, MATLAB_Y_WEIGHTS) / 255.0 + 16.0).round().astype(np.uint8)


def _sfmnet_crop(rgb, crop_border=8):
    return rgb[crop_border:-crop_border, crop_border:-crop_border] if crop_border else rgb


def psnr_sfmnet(sr, hr, channel_order='rgb', input_order='HWC'):
    """SFMNet ``utils/metric.py:torch_psnr`` PSNR: 8-pixel RGB border cropped, rounded Y."""
    return _psnr(sfmnet_y(_sfmnet_crop(_rgb(sr, channel_order, input_order))),
                 sfmnet_y(_sfmnet_crop(_rgb(hr, channel_order, input_order))))


def ssim_sfmnet(sr, hr, channel_order='rgb', input_order='HWC'):
    """SFMNet ``utils/metric.py:torch_psnr`` SSIM: ``structural_similarity(Y_sr, Y_hr, data_range=255)``
    (scikit-image defaults: 7x7 uniform window, sample covariance) after the 8-pixel border crop."""
    return float(structural_similarity(sfmnet_y(_sfmnet_crop(_rgb(sr, channel_order, input_order))),
                                       sfmnet_y(_sfmnet_crop(_rgb(hr, channel_order, input_order))), data_range=255))


# ----------------------------------------------------------------------------------------------------- BasicSR
def psnr_basicsr(sr, hr):
    """BasicSR's ``calculate_psnr(crop_border=8, test_y_channel=True)`` on RGB uint8 faces."""
    return float(calculate_psnr(sr[..., ::-1], hr[..., ::-1], 8, test_y_channel=True))


def ssim_basicsr(sr, hr):
    """BasicSR's ``calculate_ssim(crop_border=8, test_y_channel=True)`` on RGB uint8 faces."""
    return float(calculate_ssim(sr[..., ::-1], hr[..., ::-1], 8, test_y_channel=True))


PROTOCOLS = {
    'dic': (lambda sr, hr: calculate_psnr_dic(sr, hr, channel_order='rgb'),
            lambda sr, hr: calculate_ssim_dic(sr, hr, channel_order='rgb'),
            'DIC protocol (DIC, CVPR 2020, utils/util.py; also in the MRRNet checkout): Y rounded, 8-px border, '
            '11x11 Gaussian SSIM'),
    'sparnet': (psnr_sparnet, ssim_sparnet,
                "Face-SPARNet protocol (psnr_ssim.py; also WFEN's and MRRNet's psnr_ssim.py): Y truncated, no border, "
                'Gaussian SSIM'),
    'sfmnet': (psnr_sfmnet, ssim_sfmnet,
               'SFMNet protocol (CVPR 2023, utils/metric.py): 8-px border, Y rounded half to even, 7x7 uniform-window '
               'SSIM'),
    'basicsr': (psnr_basicsr, ssim_basicsr,
                'BasicSR protocol (calculate_psnr/ssim, test_y_channel=True): Y unrounded, 8-px border'),
}


@METRIC_REGISTRY.register()
def calculate_psnr_sparnet(img, img2, input_order='HWC', channel_order='bgr', **kwargs):
    """Face-SPARNet protocol PSNR (BasicSR's validation passes BGR HWC uint8-range images)."""
    return psnr_sparnet(img, img2, channel_order, input_order)


@METRIC_REGISTRY.register()
def calculate_ssim_sparnet(img, img2, input_order='HWC', channel_order='bgr', **kwargs):
    """Face-SPARNet protocol SSIM."""
    return ssim_sparnet(img, img2, channel_order, input_order)


@METRIC_REGISTRY.register()
def calculate_psnr_sfmnet(img, img2, input_order='HWC', channel_order='bgr', **kwargs):
    """SFMNet protocol PSNR."""
    return psnr_sfmnet(img, img2, channel_order, input_order)


@METRIC_REGISTRY.register()
def calculate_ssim_sfmnet(img, img2, input_order='HWC', channel_order='bgr', **kwargs):
    """SFMNet protocol SSIM."""
    return ssim_sfmnet(img, img2, channel_order, input_order)
