"""Facial landmarks of the training faces, for DIC's alignment branch (Ma et al., CVPR 2020, eq. 7).

The file is JSON (written atomically by :func:`write_landmarks`; ``scripts/prepare_dic_faces.py`` makes it from
DIC's own annotation)::

    {"format": "mrr-face-landmarks/1", "size": 128,
     "landmarks": {"<face name>": [[x, y], ... 68 points], ...}}

``<face name>`` is the face's file name without extension (as an LMDB built by scripts/create_face_lmdb.py keys
it), the points are in pixels of the ``size`` x ``size`` HR face, x to the right, y down, in the order of the
68-point iBUG 300-W markup (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth).
"""
import json
import math
import os
import tempfile
from os import path as osp

import numpy as np

LANDMARKS_FORMAT = 'mrr-face-landmarks/1'


class LandmarkFileError(ValueError):
    """A landmark file that cannot be used; the message is one sentence naming the file."""


def face_name(path):
    """The key of a face in a landmark file: its file name without extension."""
    return osp.splitext(osp.basename(path))[0]


def read_landmarks(path):
    """``(size, {face name: (K, 2) float array})`` of a landmark file; LandmarkFileError on anything malformed."""
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
    except FileNotFoundError:
        raise LandmarkFileError(f'{path} does not exist.') from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LandmarkFileError(f'{path} is not a readable JSON landmark file ({error}).') from None
    if not isinstance(content, dict) or content.get('format') != LANDMARKS_FORMAT:
        raise LandmarkFileError(f'{path} is not a landmark file of format {LANDMARKS_FORMAT!r} (see '
                                'mrr_plugin/data/face_landmarks.py; scripts/prepare_dic_faces.py writes one).')
    size, faces = content.get('size'), content.get('landmarks')
    if not isinstance(size, int) or size <= 0 or not isinstance(faces, dict) or not faces:
        raise LandmarkFileError(f'{path} needs a positive integer "size" and a non-empty "landmarks" mapping.')
    landmarks, counts = {}, set()
    for name, points in faces.items():
        try:
            array = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            array = np.zeros((0, 0))
        if array.ndim != 2 or array.shape[1] != 2 or not array.shape[0] or not np.isfinite(array).all():
            raise LandmarkFileError(f'{path}: the landmarks of face {name!r} are not a list of finite [x, y] points.')
        counts.add(array.shape[0])
        landmarks[name] = array
    if len(counts) > 1:
        raise LandmarkFileError(f'{path}: faces have different numbers of landmarks ({sorted(counts)}).')
    return size, landmarks


def write_landmarks(path, landmarks, size):
    """Write ``{face name: (K, 2) points}`` as a landmark file, atomically (a temporary file, then a rename)."""
    content = {'format': LANDMARKS_FORMAT, 'size': int(size),
               'landmarks': {name: [[round(float(x), 4), round(float(y), 4)] for x, y in np.asarray(points)]
                             for name, points in sorted(landmarks.items())}}
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix='.landmarks-', suffix='.json')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as f:
            json.dump(content, f)
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


def landmark_heatmaps(points, size, stride=4, sigma=1.0):
    """DIC's ground truth (their ``util_dataset.generate_gt``): for each landmark a Gaussian of height 1 and
    standard deviation ``sigma`` at ``point / stride`` on the integer grid of the ``size / stride`` heatmap; (K, s, s)
    float32."""
    side = int(math.ceil(size / stride))
    grid = np.arange(side, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64) / stride
    dx = (grid[None, None, :] - points[:, 0, None, None]) ** 2
    dy = (grid[None, :, None] - points[:, 1, None, None]) ** 2
    return np.exp(-(dx + dy) / (2.0 * sigma * sigma)).astype(np.float32)


def landmark_problems(where, path, face_names):
    """Problems of the landmark file ``path`` for the faces ``face_names`` (file names or LMDB keys)."""
    try:
        _, landmarks = read_landmarks(path)
    except LandmarkFileError as error:
        return [f'{where}: {error}']
    problem = missing_landmarks_problem(where, path, landmarks, face_names)
    return [problem] if problem else []


def missing_landmarks_problem(where, path, landmarks, face_names):
    """The problem of faces without points in the read landmark file ``path``, or None."""
    missing = sorted(name for name in map(face_name, face_names or ()) if name not in landmarks)
    if missing:
        return f'{where}: {path} has no landmarks for {len(missing)} of the faces, e.g. {missing[:3]}.'
    return None
