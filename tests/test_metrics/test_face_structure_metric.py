import numpy as np
import pytest
import torch
from basicsr.metrics import calculate_metric

from mrr_plugin.metrics.face_structure_metric import cosine_similarity, landmarks_68, mean_landmark_distance


def test_landmark_distance_arithmetic_on_known_geometry():
    points = np.random.default_rng(0).uniform(0, 128, (68, 2))
    assert mean_landmark_distance(points, points) == 0
    assert mean_landmark_distance(points + [3.0, 4.0], points) == pytest.approx(5.0)
    shifted = points.copy()
    shifted[:34] += [0.0, 2.0]
    assert mean_landmark_distance(shifted, points) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mean_landmark_distance(points[:5], points)


def test_cosine_similarity_arithmetic():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    torch.testing.assert_close(cosine_similarity(a, b), torch.tensor([0.0, 1.0]))


def test_facexlib_plumbing_with_random_weights(random_facexlib_weights):
    rng = np.random.default_rng(1)
    face = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    points = landmarks_68(face, random_facexlib_weights)
    assert points.shape == (68, 2) and np.isfinite(points).all()
    options = {'type': 'calculate_landmark_distance', 'weights_dir': random_facexlib_weights}
    assert calculate_metric({'img': face, 'img2': face}, options) == 0
    options = {'type': 'calculate_identity_similarity', 'weights_dir': random_facexlib_weights}
    assert calculate_metric({'img': face, 'img2': face}, options) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize('metric, file_name', [('calculate_landmark_distance', 'alignment_WFLW_4HG.pth'),
                                               ('calculate_identity_similarity', 'recognition_arcface_ir_se50.pth')])
def test_missing_weights_are_one_clear_sentence(tmp_path, metric, file_name):
    face = np.zeros((128, 128, 3), np.uint8)
    with pytest.raises(FileNotFoundError) as error:
        calculate_metric({'img': face, 'img2': face}, {'type': metric, 'weights_dir': str(tmp_path)})
    assert file_name in str(error.value) and str(tmp_path) in str(error.value) and '\n' not in str(error.value)


def test_heatmap_peak_decoding_including_borders():
    from mrr_plugin.metrics.face_structure_metric import heatmap_peaks
    heatmaps = np.zeros((1, 2, 64, 64), np.float32)
    heatmaps[0, 0, 10, 20] = 1.0
    heatmaps[0, 0, 10, 21] = 0.5  # right neighbour higher than left: +0.25 in x
    heatmaps[0, 1, 63, 63] = 1.0  # peak on the last pixel: no out-of-range read
    peaks = heatmap_peaks(heatmaps)
    np.testing.assert_allclose(peaks[0, 0], [20.75, 10.5])
    np.testing.assert_allclose(peaks[0, 1], [63.5, 63.5])
