import cv2
import numpy as np
import pytest

from mrr_plugin.metrics.no_reference_stats import (colour_histogram, histogram_intersection, jpeg_blockiness,
                                                   noise_sigma, sharpness)


def smooth_face(size=64):
    y, x = np.mgrid[0:size, 0:size] / size
    base = 128 + 60 * np.sin(3 * x) * np.cos(2 * y)
    return np.repeat(base[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)


def test_noise_estimate_tracks_the_added_noise():
    rng = np.random.default_rng(0)
    clean = smooth_face(128).astype(np.float64)
    for sigma in (5, 10, 20):
        noisy = (clean + rng.normal(0, sigma, clean.shape[:2])[..., None]).clip(0, 255).astype(np.uint8)
        assert noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)
    assert noise_sigma(smooth_face(128)) < 1.5


def test_blur_lowers_sharpness_and_jpeg_raises_blockiness():
    rng = np.random.default_rng(1)
    textured = (smooth_face(64).astype(np.float64) + rng.normal(0, 15, (64, 64, 3))).clip(0, 255).astype(np.uint8)
    assert sharpness(cv2.GaussianBlur(textured, (0, 0), 2)) < 0.2 * sharpness(textured)
    ok, data = cv2.imencode('.jpg', textured, [cv2.IMWRITE_JPEG_QUALITY, 10])
    compressed = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert jpeg_blockiness(compressed) > 1.2 > jpeg_blockiness(textured) > 0.8
    assert np.isnan(jpeg_blockiness(textured[:8, :8]))


def test_colour_histograms():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 250
    blue = red[..., ::-1].copy()
    assert histogram_intersection(colour_histogram(red), colour_histogram(red)) == pytest.approx(1.0)
    assert histogram_intersection(colour_histogram(red), colour_histogram(blue)) == pytest.approx(1 / 3)
    assert colour_histogram(red).shape == (48,)
