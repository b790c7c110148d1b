"""Readers of the official face-dataset annotation files (CelebA lists, Helen landmark files) and shipped splits."""
import os
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
