"""NIQE of a set of small images (faces): BasicSR's NIQE with the blocks of all images pooled into one model.

Mittal et al., "Making a 'Completely Blind' Image Quality Analyzer" (SPL 2013), eq. 10: NIQE = sqrt((nu_1 - nu_2)^T
((Sigma_1 + Sigma_2) / 2)^-1 (nu_1 - nu_2)), the distance between the pristine multivariate Gaussian (BasicSR's
``niqe_pris_params.npz``, the official MATLAB parameters) and the Gaussian fitted to the 36 features of the test
image's 96x96 blocks. A 128x128 face holds one such block, so BasicSR's per-image ``calculate_niqe`` cannot fit a
covariance ("SVD did not converge"); here the blocks of every image of the set are pooled and one Gaussian is
fitted to them: on one image of whole blocks this is exactly BasicSR's value (tested). Blocks are taken centred
(BasicSR takes them from the top-left corner; the same when the side is a multiple of 96), so a face's one block is
its centre. Lower is better; it needs no ground truth (real low-quality faces, restored photos).
"""
import os.path as osp

import numpy as np
from basicsr.metrics.metric_util import to_y_channel
from basicsr.metrics.niqe import compute_feature
from basicsr.utils.matlab_functions import imresize
from scipy.ndimage import convolve
from tqdm import tqdm

BLOCK = 96


def pristine_model():
    """(mu, covariance, 7x7 Gaussian window) shipped with BasicSR (the official NIQE release's)."""
    import basicsr.metrics
    params = np.load(osp.join(osp.dirname(basicsr.metrics.__file__), 'niqe_pris_params.npz'))
    return params['mu_pris_param'], params['cov_pris_param'], params['gaussian_window']


def luminance(rgb):
    """BasicSR's NIQE input: MATLAB's Y of the BGR image in [0, 255], rounded."""
    return np.squeeze(to_y_channel(np.ascontiguousarray(rgb[..., ::-1]).astype(np.float32))).round()


def block_features(y, window, block=BLOCK):
    """(blocks, 36) NIQE features of a Y image (float, [0, 255]) on its centred whole ``block`` x ``block`` blocks,
    at full and half scale as BasicSR's ``niqe``. Empty for an image smaller than one block."""
    rows, cols = y.shape[0] // block, y.shape[1] // block
    if rows == 0 or cols == 0:
        return np.zeros((0, 36))
    top, left = (y.shape[0] - rows * block) // 2, (y.shape[1] - cols * block) // 2
    image = y[top:top + rows * block, left:left + cols * block]
    per_scale = []
    for scale in (1, 2):
        mu = convolve(image, window, mode='nearest')
        sigma = np.sqrt(np.abs(convolve(np.square(image), window, mode='nearest') - np.square(mu)))
        normalised = (image - mu) / (sigma + 1)
        size = block // scale
        per_scale.append([compute_feature(normalised[r * size:(r + 1) * size, c * size:(c + 1) * size])
                          for c in range(cols) for r in range(rows)])
        if scale == 1:
            image = imresize(image / 255., scale=0.5, antialiasing=True) * 255.
    return np.concatenate([np.array(f) for f in per_scale], axis=1)


def niqe_of_features(features, mu_pristine, cov_pristine):
    """Eq. 10 between the pristine model and the Gaussian of ``features`` (rows with NaN left out of the
    covariance, as BasicSR)."""
    mu = np.nanmean(features, axis=0)
    cov = np.cov(features[~np.isnan(features).any(axis=1)], rowvar=False)
    difference = np.ravel(mu_pristine) - mu
    return float(np.sqrt(difference @ np.linalg.pinv((cov_pristine + cov) / 2) @ difference))


def calculate_niqe_set(images, crop_border=0, progress=True):
    """NIQE of a set of RGB uint8 images (HxWx3), their blocks pooled; ValueError when the set holds fewer than two
    blocks (each image must be at least 96x96 after ``crop_border``)."""
    mu, cov, window = pristine_model()
    features = []
    for image in tqdm(images, desc='NIQE', unit='image', leave=False, disable=not progress):
        y = luminance(image)
        if crop_border:
            y = y[crop_border:-crop_border, crop_border:-crop_border]
        features.append(block_features(y, window))
    features = np.concatenate(features) if features else np.zeros((0, 36))
    if len(features) < 2:
        raise ValueError(f'NIQE needs at least two {BLOCK}x{BLOCK} blocks in the set; these images are too small '
                         f'({len(images)} image(s), {len(features)} block(s)).')
    return niqe_of_features(features, mu, cov)


def niqe_beside_bicubic(restored, bicubic):
    """One line: NIQE (no reference, lower is better) of restored faces beside the same faces bicubic-upscaled."""
    try:
        return (f'NIQE (lower is better) of the {len(restored)} restored faces: {calculate_niqe_set(restored):.3f}; '
                f'the same faces bicubic-upscaled: {calculate_niqe_set(bicubic):.3f}')
    except ValueError as error:
        return f'NIQE not computed: {error}'
