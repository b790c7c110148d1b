"""No-reference statistics of low-quality faces (no ground truth): sharpness, noise, JPEG blocking, colour.

Used to compare real LR faces with generated ones (H2L vs. bicubic, Bulat et al. ECCV 2018). Each function takes
an RGB uint8 array and returns a number (or a histogram).
"""
import cv2
import numpy as np

NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def _luma(rgb):
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float64)


def sharpness(rgb):
    """Variance of the Laplacian of the luma (higher = sharper; blur lowers it)."""
    return float(cv2.Laplacian(_luma(rgb), cv2.CV_64F).var())


def noise_sigma(rgb):
    """Immerkaer's fast noise estimate (1996): ``sqrt(pi / 2) / (6 (W - 2)(H - 2)) * sum |I * M|`` on the luma,
    M the 3x3 Laplacian-difference mask (insensitive to image structure to first order)."""
    luma = _luma(rgb)
    height, width = luma.shape
    if height < 3 or width < 3:
        raise ValueError('noise_sigma needs at least 3x3 pixels.')
    response = cv2.filter2D(luma, cv2.CV_64F, NOISE_KERNEL)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).sum() / (6 * (width - 2) * (height - 2)))


def jpeg_blockiness(rgb, block=8):
    """Mean absolute luma step across ``block``-pixel boundaries divided by the mean step inside blocks
    (about 1 without blocking; JPEG's 8x8 blocks raise it). NaN when the image has no inner boundary."""
    luma = _luma(rgb)
    steps_x, steps_y = np.abs(np.diff(luma, axis=1)), np.abs(np.diff(luma, axis=0))
    at_x = (np.arange(steps_x.shape[1]) % block) == block - 1
    at_y = (np.arange(steps_y.shape[0]) % block) == block - 1
    if not at_x.any() or not at_y.any():
        return float('nan')
    boundary = np.concatenate([steps_x[:, at_x].ravel(), steps_y[at_y].ravel()]).mean()
    inside = np.concatenate([steps_x[:, ~at_x].ravel(), steps_y[~at_y].ravel()]).mean()
    return float(boundary / max(inside, 1e-8))


def colour_histogram(rgb, bins=16):
    """Concatenated per-channel histograms (``bins`` each), normalised to sum 1 per channel."""
    hist = [np.histogram(rgb[..., c], bins=bins, range=(0, 256))[0].astype(np.float64) for c in range(3)]
    return np.concatenate([h / max(h.sum(), 1) for h in hist])


def histogram_intersection(first, second):
    """Mean over channels of ``sum min(h1, h2)``: 1 for identical colour distributions, 0 for disjoint ones."""
    return float(np.minimum(first, second).sum() / 3)
