"""Any folder of photos -> HR/LR face pairs: detect faces (facexlib RetinaFace), crop (DIC) or align, resize.

    # detect every face, DIC crop (1.3 x box), 128x128 HR + 16x16 LR, LMDBs in datasets/MyFaces
    mrr-prepare-faces --images photos/ --out datasets/MyFaces --weights-dir weights/facexlib
    # align with the 5 landmarks to the FFHQ template instead of the box crop, 512x512 HR only
    mrr-prepare-faces --images photos/ --out datasets/MyHD --align --hr-size 512 --scale 0 \
        --weights-dir weights/facexlib --device cuda
    # images that already are face crops: just resize (no detector, no weights)
    mrr-prepare-faces --images crops/ --out datasets/Crops --crop-only --format png

Detection needs facexlib's detection_Resnet50_Final.pth in --weights-dir (nothing is downloaded). Faces smaller
than --min-face pixels or below --threshold confidence are skipped; a photo's k-th face is named <photo>_<k>.
Detections are cached in <out>/detections.json, and finished faces are kept, so an interrupted run resumes.
"""
import argparse
import json
import os
import sys
from functools import partial
from os import path as osp

import numpy as np
from tqdm import tqdm

from mrr_plugin.cli import command
from mrr_plugin.data.face_geometry import DetectedFace
from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.preparation.face_detection import detect_faces, load_retinaface
from mrr_plugin.preparation.face_preparation import (FaceSource, add_output_arguments, dic_hr_face, find_images,
                                                     prepare_splits, split_names)

CACHE_FORMAT = 'x0 y0 x1 y1 score landmarks'


def detect_all(images, args):
    """``{photo stem: [DetectedFace, ...]}``, cached in <out>/detections.json (a cache of another format, e.g. of an
    older version, is detected again)."""
    cache_path = osp.join(args.out, 'detections.json')
    cache = {}
    if osp.isfile(cache_path):
        with open(cache_path) as f:
            stored = json.load(f)
        if isinstance(stored, dict) and stored.get('format') == CACHE_FORMAT:
            cache = stored['faces']
        else:
            print(f'{cache_path} is of another format; detecting again.', file=sys.stderr)
    todo = [stem for stem in images if stem not in cache]
    if not todo:
        return _faces(cache)
    model = load_retinaface(args.weights_dir, args.device)
    os.makedirs(args.out, exist_ok=True)

    def save():
        with open(f'{cache_path}.partial', 'w') as f:
            json.dump({'format': CACHE_FORMAT, 'faces': cache}, f)
        os.replace(f'{cache_path}.partial', cache_path)

    for count, stem in enumerate(tqdm(todo, desc='detect', unit='photo'), start=1):
        try:
            faces = detect_faces(model, read_image(images[stem]), args.threshold)
        except BadImageError as error:
            print(f'bad: {images[stem]}: {error}', file=sys.stderr)
            faces = []
        cache[stem] = [[*face.box, face.score, *face.landmarks.ravel()] for face in faces]
        if count % 100 == 0:
            save()
    save()
    return _faces(cache)


def _faces(cache):
    return {stem: [DetectedFace(tuple(row[:4]), np.array(row[5:15]).reshape(5, 2), row[4]) for row in rows]
            for stem, rows in cache.items()}


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True, help='folder of photos (searched recursively)')
    parser.add_argument('--crop-only', action='store_true', help='each image is one face: resize only')
    parser.add_argument('--align', action='store_true', help='align with the 5 landmarks (FFHQ template)')
    parser.add_argument('--weights-dir', help="folder with facexlib's detection_Resnet50_Final.pth")
    parser.add_argument('--device', default='cpu', help='cpu or cuda (default cpu)')
    parser.add_argument('--threshold', type=float, default=0.8, help='detection confidence (default 0.8)')
    parser.add_argument('--min-face', type=int, default=32, help='skip faces with a smaller box side (default 32)')
    parser.add_argument('--max-faces', type=int, default=0, help='at most N faces per photo (default all)')
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    images = find_images(args.images, recursive=True)  # OSError: one line (@command)
    stems = sorted(images)[:args.limit or None]

    if args.crop_only:
        sources = [FaceSource(stem, images[stem]) for stem in stems]
    else:
        detections = detect_all({stem: images[stem] for stem in stems}, args)  # missing weights: one line
        sources = []
        for stem in stems:
            faces = [face for face in detections[stem] if face.side >= args.min_face]
            for k, face in enumerate(faces[:args.max_faces or None]):
                sources.append(FaceSource(f'{stem}_{k}', images[stem], box=face.box,
                                          landmarks=face.landmarks if args.align else None))
        print(f'{len(sources)} faces in {len(stems)} photos')
    by_name = {source.name: source for source in sources}
    splits = split_names(sorted(by_name), val_count=args.val_count)
    prepare_splits({split: [by_name[n] for n in members] for split, members in splits.items()},
                   partial(dic_hr_face, hr_size=args.hr_size), args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
