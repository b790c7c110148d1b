"""Turning face photos into the standard HR/LR training and test sets: crop geometry and resumable writing.

The DIC x8 protocol (Ma et al., CVPR 2020; reused by SPARNet and MRRNet): a square crop centred on the face box,
enlarged by 30 % (15 % per side), clipped to the image, PIL bicubic to 128x128 (HR); LR = PIL bicubic 128 -> 16.
Every split is first written as PNG folders ``<out>/<split>/HR`` and ``LR`` (each file atomically, so an
interrupted run continues where it stopped), then optionally packed into ``<out>/<split>_HR.lmdb`` / ``_LR.lmdb``.
"""
import math
import os
import random
import shutil
import sys
from dataclasses import dataclass, field
from os import path as osp

import numpy as np
from PIL import Image
from tqdm import tqdm

from mrr_plugin.data.face_geometry import crop_face, ffhq_matrix
from mrr_plugin.data.face_image_io import BadImageError, bicubic, read_image
from mrr_plugin.data.face_lmdb import build_face_lmdb
from mrr_plugin.data.image_folder import IMAGE_EXTENSIONS
from mrr_plugin.utils.visual import write_png

DIC_ENLARGE = 0.3


@dataclass
class FaceSource:
    """One face to write: output ``name`` (file stem), source image ``path`` and a face ``box`` (x0, y0, x1, y1) in
    pixels (None: the whole image is the face), or 5 ``landmarks`` for aligned crops."""
    name: str
    path: str
    box: tuple = None
    landmarks: np.ndarray = None


@dataclass
class PreparationReport:
    written: int = 0
    resumed: int = 0
    bad: dict = field(default_factory=dict)

    def summary(self, split):
        return (f'{split}: {self.written} written, {self.resumed} already there (resumed), {len(self.bad)} bad'
                + ''.join(f'\n  bad: {name}: {reason}' for name, reason in sorted(self.bad.items())[:20]))


def enlarged_square_box(box, image_size, enlarge=DIC_ENLARGE):
    """(left, top, right, bottom) of the DIC crop: a square of side ``max(w, h) * (1 + enlarge)`` centred on
    ``box = (x0, y0, x1, y1)``, clipped to ``image_size = (width, height)`` and rounded to whole pixels."""
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        raise BadImageError(f'empty face box {box}.')
    side = max(w, h) * (1 + enlarge)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    width, height = image_size
    left, top = max(0, _round_half_up(cx - side / 2)), max(0, _round_half_up(cy - side / 2))
    right, bottom = min(width, _round_half_up(cx + side / 2)), min(height, _round_half_up(cy + side / 2))
    if right - left < 2 or bottom - top < 2:
        raise BadImageError(f'face box {box} lies outside the {width}x{height} image.')
    return left, top, right, bottom


def _round_half_up(value):
    return math.floor(value + 0.5)


def landmark_box(points, extent=1.0):
    """Face box (x0, y0, x1, y1) from landmarks: their bounding box, its sides scaled by ``extent`` about its centre
    (1.0 for face outlines such as Helen's 194 points; about 2 for 5 eye/nose/mouth points)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    w, h = (x1 - x0) * extent, (y1 - y0) * extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def aligned_face(image, landmarks, size):
    """Similarity-warp ``image`` so the 5 ``landmarks`` land on the FFHQ template scaled to ``size``."""
    try:
        matrix = ffhq_matrix(landmarks, size)
    except ValueError as error:
        raise BadImageError(error) from error
    return Image.fromarray(crop_face(np.asarray(image), matrix, size))


def dic_hr_face(source, hr_size, enlarge=DIC_ENLARGE, resample=Image.BICUBIC):
    """The HR face of ``source``: DIC crop of its box (or aligned crop, or the whole image), resized to ``hr_size``."""
    image = read_image(source.path)
    if source.landmarks is not None:
        return aligned_face(image, source.landmarks, hr_size)
    if source.box is not None:
        image = image.crop(enlarged_square_box(source.box, image.size, enlarge))
    return image if image.size == (hr_size, hr_size) else image.resize((hr_size, hr_size), resample)


def write_face_pairs(sources, out_dir, make_hr, scale=8, progress=True, desc='faces', make_lr=None):
    """Write ``<out_dir>/HR/<name>.png`` (``make_hr(source)``) and, when ``scale``, ``LR/<name>.png`` (PIL bicubic
    HR -> HR / scale, or ``make_lr(source, hr)``) for every source. Pairs already on disk are kept (resume);
    sources that fail are listed in the report and skipped. Returns :class:`PreparationReport`."""
    hr_dir, lr_dir = osp.join(out_dir, 'HR'), osp.join(out_dir, 'LR')
    os.makedirs(hr_dir, exist_ok=True)
    if scale:
        os.makedirs(lr_dir, exist_ok=True)
    report = PreparationReport()
    for source in tqdm(sources, desc=desc, unit='face', disable=not progress):
        hr_path, lr_path = osp.join(hr_dir, f'{source.name}.png'), osp.join(lr_dir, f'{source.name}.png')
        if osp.isfile(hr_path) and (not scale or osp.isfile(lr_path)):
            report.resumed += 1
            continue
        try:
            hr = make_hr(source)
        except (BadImageError, OSError) as error:
            report.bad[source.name] = str(error)
            continue
        if scale:
            if hr.size[0] % scale:
                raise ValueError(f'HR size {hr.size[0]} is not divisible by the scale {scale}.')
            lr = make_lr(source, hr) if make_lr else bicubic(hr, hr.size[0] // scale)
            write_png(lr_path, np.asarray(lr))
        write_png(hr_path, np.asarray(hr))  # HR last: an HR file means the pair is complete
        report.written += 1
    return report


def pack_lmdb(out_root, split, hr_size, scale=8, keep_png=True):
    """``<out_root>/<split>/{HR,LR}`` -> ``<out_root>/<split>_HR.lmdb`` (and ``_LR.lmdb``), replacing old ones."""
    folder = osp.join(out_root, split)
    lr_folder = osp.join(folder, 'LR') if scale else None
    report = build_face_lmdb(osp.join(folder, 'HR'), osp.join(out_root, f'{split}_HR.lmdb'), lr_folder,
                             osp.join(out_root, f'{split}_LR.lmdb') if scale else None, hr_size=hr_size,
                             scale=scale or 1, overwrite=True, progress=True)
    if not keep_png:
        shutil.rmtree(folder)
    return report.outputs


def split_names(names, test_names=(), val_count=0, seed=0):
    """``{'train': [...], 'val': [...], 'test': [...]}``: ``test_names`` go to test; ``val_count`` random others
    (fixed ``seed``) to val; the rest to train. Empty splits are left out."""
    test_set = set(test_names)
    test = [n for n in names if n in test_set]
    rest = [n for n in names if n not in test_set]
    val = set(random.Random(seed).sample(rest, min(val_count, len(rest)))) if val_count else set()
    splits = {'train': [n for n in rest if n not in val], 'val': [n for n in rest if n in val], 'test': test}
    return {split: members for split, members in splits.items() if members}


def find_images(folder, recursive=False):
    """``{file stem: path}`` of the images in ``folder`` (and its subfolders with ``recursive``);
    FileNotFoundError when there are none."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder} is not a folder.')
    found = {}
    walker = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
    for root, folders, files in walker:
        folders.sort()  # walked in name order, so the photo kept for a stem seen twice is the same everywhere
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS) and '.partial.' not in name:
                found.setdefault(osp.splitext(name)[0], osp.join(root, name))
    if not found:
        raise FileNotFoundError(f'No images in {folder}.')
    return found


def annotated_names(annotations, images, limit=0):
    """Sorted names that have both an annotation and an image (the first ``limit``); says how many annotated
    images are missing."""
    missing = [name for name in annotations if name not in images]
    if missing:
        print(f'{len(missing)} annotated images were not found (skipped), e.g. {missing[:3]}', file=sys.stderr)
    return [name for name in sorted(annotations) if name in images][:limit or None]


def add_output_arguments(parser, hr_size=128, scale=8):
    """The output options every preparation script shares."""
    parser.add_argument('--out', required=True, help='output root, e.g. datasets/CelebA')
    parser.add_argument('--format', choices=['lmdb', 'png'], default='lmdb',
                        help='lmdb (default): <out>/<split>_HR.lmdb and _LR.lmdb; png: <out>/<split>/HR and LR')
    parser.add_argument('--keep-png', action='store_true', help='with lmdb, keep the PNG folders as well')
    parser.add_argument('--hr-size', type=int, default=hr_size, help=f'HR size (default {hr_size})')
    parser.add_argument('--scale', type=int, default=scale, help=f'LR = HR / scale, 0 for HR only (default {scale})')
    parser.add_argument('--val-count', type=int, default=0, help='hold out this many training faces as "val"')
    parser.add_argument('--limit', type=int, default=0, help='only the first N faces (quick trials)')


def prepare_splits(sources_by_split, make_hr, args):
    """Write every split as PNG pairs (resumable), then pack LMDBs when ``args.format == 'lmdb'``.

    Prints one summary line per split (with the bad files) and returns ``{split: PreparationReport}``.
    """
    reports = {}
    for split, sources in sources_by_split.items():
        report = write_face_pairs(sources, osp.join(args.out, split), make_hr, args.scale, desc=split)
        print(report.summary(split))
        if args.format == 'lmdb' and report.written + report.resumed:
            outputs = pack_lmdb(args.out, split, args.hr_size, args.scale, keep_png=args.keep_png)
            print(f'{split}: packed {", ".join(outputs)}')
        reports[split] = report
    return reports
