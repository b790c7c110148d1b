"""CelebA faces with DIC's 68-point landmarks -> the training set of the DIC recipe (HR/LR LMDBs + landmark file).

    mrr-prepare-dic --images CelebA/img_celeba --info annotations/new_train_info_list.pkl \
        --val-info annotations/new_val_info_list.pkl --out datasets/CelebA_DIC

DIC (Ma et al., CVPR 2020) trains its alignment branch on 68 landmarks per face: their ``annotations`` folder
(github.com/Maclory/Deep-Iterative-Collaboration README, "Download landmark annotations") holds, per CelebA image,
a face box and the landmarks. Each face is cut as their ``HRLandmarkDataset._crop_resize`` does: the box, PIL
bicubic to ``--hr-size`` (128), LR bicubic to ``--hr-size / --scale``; the landmarks are moved into the crop and
scaled the same way (``(x - xmin) * hr_size / width``) and written to ``<out>/<split>_landmarks.json``
(:mod:`mrr_plugin.data.face_landmarks`). Resumable; the pickles are read as plain data (never run).
"""
import argparse
import sys
from functools import partial
from os import path as osp

from PIL import Image

from mrr_plugin.cli import command
from mrr_plugin.data.face_image_io import read_image
from mrr_plugin.data.face_landmarks import write_landmarks
from mrr_plugin.preparation.face_annotations import read_dic_info
from mrr_plugin.preparation.face_preparation import (FaceSource, add_output_arguments, annotated_names, find_images,
                                                     prepare_splits)


def dic_annotation_face(source, hr_size):
    """The HR face of ``source`` as DIC cuts it: its box, PIL bicubic to ``hr_size``."""
    return read_image(source.path).crop(tuple(int(v) for v in source.box)).resize((hr_size, hr_size), Image.BICUBIC)


def landmarks_in_crop(landmarks, box, hr_size):
    """DIC's landmarks moved into the crop of ``box`` resized to ``hr_size`` (their ``landmark_cropped``)."""
    xmin, ymin, xmax, ymax = (int(v) for v in box)
    return (landmarks - [xmin, ymin]) * [hr_size / (xmax - xmin), hr_size / (ymax - ymin)]


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True, help="CelebA's img_celeba folder (the in-the-wild images)")
    parser.add_argument('--info', required=True, help="DIC's training annotation, new_train_info_list.pkl")
    parser.add_argument('--val-info', help="DIC's validation annotation, new_val_info_list.pkl (split 'val')")
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    annotations = {'train': read_dic_info(args.info)}  # AnnotationError: one line (@command), before any output
    if args.val_info:
        annotations['val'] = read_dic_info(args.val_info)
    images = find_images(args.images)
    sources = {}
    for split, faces in annotations.items():
        names = annotated_names(faces, images, args.limit)
        sources[split] = [FaceSource(name, images[name], box=tuple(faces[name][1])) for name in names]
    reports = prepare_splits(sources, partial(dic_annotation_face, hr_size=args.hr_size), args)
    for split, faces in annotations.items():
        kept = {source.name: landmarks_in_crop(*faces[source.name], args.hr_size) for source in sources[split]
                if source.name not in reports[split].bad}
        path = osp.join(args.out, f'{split}_landmarks.json')
        write_landmarks(path, kept, args.hr_size)
        print(f'{split}: landmarks of {len(kept)} faces in {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
