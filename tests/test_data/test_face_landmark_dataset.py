"""DIC's training data: the landmark file, its heatmaps (DIC's ``generate_gt``), and every refusal as one line."""
import json

import numpy as np
import pytest
from basicsr.data import build_dataset

from mrr_plugin.data.data_checks import dataset_problems
from mrr_plugin.data.face_landmarks import LandmarkFileError, landmark_heatmaps, read_landmarks, write_landmarks
from tests.helpers.face_landmarks import write_generated_landmarks


def dic_generate_gt(size, landmarks, sigma):
    """DIC's util_dataset.generate_gt / _generate_one_heatmap, written out as they are."""
    maps = []
    for landmark in landmarks:
        w, h = size
        xx, yy = np.meshgrid(np.arange(0, w, dtype=int), np.arange(0, h, dtype=int))
        maps.append(np.exp(-((xx - landmark[0]) ** 2 + (yy - landmark[1]) ** 2) / 2.0 / sigma / sigma))
    return np.stack(maps, axis=0)


def dataset_options(folder, landmarks, **extra):
    return {'name': 'dic', 'type': 'FaceLandmarkDataset', 'dataroot_gt': folder, 'io_backend': {'type': 'disk'},
            'landmarks': landmarks, 'phase': 'train', 'scale': 8, 'use_hflip': False, 'use_rescale': False, **extra}


@pytest.fixture
def faces_with_landmarks(face_pairs, tmp_path):
    hr, _, names = face_pairs
    path = tmp_path / 'landmarks.json'
    points = write_generated_landmarks(path, [name.rsplit('.', 1)[0] for name in names])
    return hr, str(path), names, points


def test_heatmaps_are_dics_ground_truth(faces_with_landmarks):
    hr, landmarks, names, points = faces_with_landmarks
    dataset = build_dataset(dataset_options(hr, landmarks))
    sample = dataset[3]
    name = names[3].rsplit('.', 1)[0]
    assert sample['heatmap'].shape == (68, 32, 32) and sample['lq'].shape == (3, 16, 16)
    stored = read_landmarks(landmarks)[1][name]  # the file keeps 4 decimals
    assert np.abs(stored - points[name]).max() <= 5e-5
    expected = dic_generate_gt((32, 32), [(x / 4, y / 4) for x, y in stored], 1)
    np.testing.assert_allclose(sample['heatmap'].numpy(), expected, rtol=0, atol=1e-6)
    peak = np.unravel_index(sample['heatmap'][30].argmax(), (32, 32))  # nose tip near its landmark / 4
    assert abs(peak[1] - points[name][30][0] / 4) <= 0.5 and abs(peak[0] - points[name][30][1] / 4) <= 0.5


def test_landmarks_of_another_face_size_are_scaled(tmp_path):
    write_landmarks(tmp_path / 'l.json', {'a': [[100.0, 50.0], [10.0, 20.0]]}, 256)
    size, landmarks = read_landmarks(tmp_path / 'l.json')
    assert size == 256 and landmarks['a'].shape == (2, 2)
    maps = landmark_heatmaps(landmarks['a'] * (128 / size), 128)
    assert np.unravel_index(maps[0].argmax(), maps[0].shape) == (6, 12)


@pytest.mark.parametrize('content, message', [
    ('{not json', 'not a readable JSON landmark file'),
    (json.dumps({'size': 128, 'landmarks': {}}), 'is not a landmark file of format'),
    (json.dumps({'format': 'mrr-face-landmarks/1', 'size': 128, 'landmarks': {'a': [[1, 2, 3]]}}),
     "face 'a' are not a list of finite"),
    (json.dumps({'format': 'mrr-face-landmarks/1', 'size': 128, 'landmarks': {'a': [[1, 2]], 'b': [[1, 2], [3, 4]]}}),
     'different numbers of landmarks'),
])
def test_malformed_landmark_files_are_one_sentence(content, message, tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(LandmarkFileError, match=message):
        read_landmarks(path)


def test_refusals_before_training_starts(faces_with_landmarks, tmp_path):
    hr, landmarks, names, points = faces_with_landmarks
    partial = tmp_path / 'partial.json'
    write_landmarks(partial, {name: p for name, p in list(points.items())[:-2]}, 128)
    problems = dataset_problems('datasets.train', dataset_options(hr, str(partial)), 8)
    assert problems == [f'datasets.train.landmarks: {partial} has no landmarks for 2 of the faces, e.g. '
                        f'{sorted(n.rsplit(".", 1)[0] for n in names[-2:])}.']
    assert dataset_problems('datasets.train', dataset_options(hr, str(tmp_path / 'none.json')), 8) == [
        f'datasets.train.landmarks: {tmp_path / "none.json"} does not exist.']
    assert dataset_problems('datasets.train', dataset_options(hr, landmarks), 8) == []
    with pytest.raises(ValueError, match='use_hflip: false and use_rescale: false'):
        build_dataset(dataset_options(hr, landmarks, use_hflip=True))
    with pytest.raises(ValueError, match='has no landmarks for 2 of the faces'):
        build_dataset(dataset_options(hr, str(partial)))
