"""Readers of the official face-dataset annotation files (CelebA lists, Helen landmark files) and shipped splits."""
import os
import pickle
from os import path as osp

import numpy as np

SPLITS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'splits')
DIC_CELEBA_TEST_IDS = osp.join(SPLITS_DIR, 'dic_celeba_test_ids.txt')


class AnnotationError(ValueError):
    """An annotation file that does not have the documented format (the message names file and line)."""


def read_name_list(path):
    """Names (file stems, extension dropped) listed one per line in ``path``; blank lines and # comments ignored."""
    with open(path) as f:
        return [osp.splitext(line.split('#')[0].strip())[0] for line in f if line.split('#')[0].strip()]


def read_celeba_list(path):
    """CelebA's ``list_bbox_celeba.txt`` / ``list_landmarks_celeba.txt``: ``{image stem: float array}``.

    Format: line 1 the image count, line 2 the column names, then ``<image>.jpg v1 v2 ...`` (4 values
    ``x_1 y_1 width height`` for boxes, 10 ``x y`` values for the 5 in-the-wild landmarks). The header row may
    start with ``image_id`` (box list) or directly with the column names (landmark list).
    """
    with open(path) as f:
        lines = f.read().splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise AnnotationError(f'{path}: line 1 must be the image count (CelebA list format).')
    columns = [c for c in lines[1].split() if c != 'image_id']
    rows = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(columns) + 1:
            raise AnnotationError(f'{path}:{number}: expected an image name and {len(columns)} values, got {line!r}.')
        try:
            rows[osp.splitext(fields[0])[0]] = np.array([float(v) for v in fields[1:]])
        except ValueError as error:
            raise AnnotationError(f'{path}:{number}: {error}.') from error
    if len(rows) != int(lines[0]):
        raise AnnotationError(f'{path}: line 1 announces {int(lines[0])} images, the file lists {len(rows)}.')
    return rows


def read_helen_annotations(folder):
    """Helen's ``annotation/<n>.txt`` files: line 1 the image name, then 194 ``x , y`` lines.

    Returns ``{image name: (194, 2) float array}``.
    """
    if not osp.isdir(folder):
        raise AnnotationError(f'{folder} is not a folder of Helen annotation files.')
    annotations = {}
    for file_name in sorted(os.listdir(folder)):
        if not file_name.endswith('.txt'):
            continue
        path = osp.join(folder, file_name)
        with open(path) as f:
            lines = [line.strip() for line in f if line.strip()]
        try:
            points = np.array([[float(v) for v in line.split(',')] for line in lines[1:]])
        except ValueError as error:
            raise AnnotationError(f'{path}: landmark lines must read "x , y" ({error}).') from error
        if not lines or points.shape != (194, 2):
            raise AnnotationError(f'{path}: expected an image name and 194 "x , y" lines.')
        annotations[lines[0]] = points
    if not annotations:
        raise AnnotationError(f'No Helen annotation files (*.txt) in {folder}.')
    return annotations


# what a pickle of plain data with NumPy arrays needs; anything else in the file is refused, never run
_DATA_ONLY_GLOBALS = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
                      ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
                      ('numpy', 'ndarray'), ('numpy', 'dtype'), ('collections', 'OrderedDict')}


class _DataOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _DATA_ONLY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'it asks to run {module}.{name}, which an annotation file never needs')


def read_dic_info(path):
    """DIC's landmark annotation (their ``new_train_info_list.pkl`` / ``new_val_info_list.pkl``, read by their
    ``util_dataset.get_info``): ``{image name: {'landmark': 68 [x, y] points, 'bbox': [xmin, ymin, xmax, ymax]}}``
    in pixels of the original image (CelebA's ``img_celeba``).

    The pickle is read as data only (lists, numbers, NumPy arrays): an object that would run code is refused.
    Returns ``{image stem: (landmarks (K, 2), box (4,))}``.
    """
    try:
        with open(path, 'rb') as f:
            info = _DataOnlyUnpickler(f).load()
    except FileNotFoundError:
        raise AnnotationError(f'{path} does not exist.') from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError) as error:
        raise AnnotationError(f'{path} is not a DIC annotation pickle of plain data ({error}); nothing in it '
                              'was run.') from None
    if not isinstance(info, dict) or not info:
        raise AnnotationError(f'{path}: expected a non-empty mapping of image names to landmarks and boxes.')
    faces = {}
    for name, entry in info.items():
        try:
            landmarks = np.asarray(entry['landmark'], dtype=np.float64)
            box = np.asarray(entry['bbox'], dtype=np.float64)
        except (TypeError, KeyError, IndexError, ValueError):
            raise AnnotationError(f"{path}: the entry of {name!r} has no 'landmark' points and 'bbox'.") from None
        if landmarks.ndim != 2 or landmarks.shape[1] != 2 or box.shape != (4, ) or not (
                box[2] > box[0] and box[3] > box[1]) or not np.isfinite(landmarks).all():
            raise AnnotationError(f"{path}: the entry of {name!r} needs (K, 2) landmarks and a box "
                                  '[xmin, ymin, xmax, ymax] with xmax > xmin and ymax > ymin.')
        faces[osp.splitext(str(name))[0]] = (landmarks, box)
    return faces
