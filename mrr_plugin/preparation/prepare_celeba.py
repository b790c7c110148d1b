"""CelebA "in the wild" -> the standard x8 face-SR sets (DIC protocol): 128x128 HR and 16x16 LR, train/val/test.

    mrr-prepare-celeba --images CelebA/img_celeba --bbox CelebA/list_bbox_celeba.txt \
        --out datasets/CelebA --val-count 1000
    # without the box list, a box from the 5 landmarks (side = 2 x the landmarks' extent)
    mrr-prepare-celeba --images CelebA/img_celeba \
        --landmarks CelebA/list_landmarks_celeba.txt --out datasets/CelebA

Crop: square centred on the face box, side 1.3 x max(w, h) (15 % per side), clipped to the image, PIL bicubic to
128; LR = PIL bicubic 128 -> 16. Test split: the 1,000 DIC test ids shipped in mrr_plugin/preparation/splits (or
--test-ids); everything else is train (minus --val-count faces, seeded). Writes PNG folders first (an interrupted
run resumes), then <out>/{train,val,test}_{HR,LR}.lmdb with meta_info.txt; prints skipped/bad files.
"""
import argparse
import sys
from functools import partial

from mrr_plugin.cli import command
from mrr_plugin.data.face_geometry import corners
from mrr_plugin.preparation.face_annotations import DIC_CELEBA_TEST_IDS, read_celeba_list, read_name_list
from mrr_plugin.preparation.face_preparation import (FaceSource, add_output_arguments, annotated_names, dic_hr_face,
                                                     find_images, landmark_box, prepare_splits, split_names)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True, help='img_celeba/ (in-the-wild images)')
    boxes = parser.add_mutually_exclusive_group(required=True)
    boxes.add_argument('--bbox', help='list_bbox_celeba.txt')
    boxes.add_argument('--landmarks', help='list_landmarks_celeba.txt (5 in-the-wild landmarks)')
    parser.add_argument('--landmark-extent', type=float, default=2.0,
                        help='with --landmarks: face box side / landmarks extent (default 2.0)')
    parser.add_argument('--test-ids', default=DIC_CELEBA_TEST_IDS, help='test ids, one per line (default: DIC)')
    add_output_arguments(parser)
    args = parser.parse_args(argv)

    annotations = read_celeba_list(args.bbox or args.landmarks)  # AnnotationError / OSError: one line (@command)
    test_ids = read_name_list(args.test_ids)
    images = find_images(args.images)
    names = annotated_names(annotations, images, args.limit)

    def source(name):
        values = annotations[name]
        box = corners(*values) if args.bbox else landmark_box(values.reshape(5, 2), args.landmark_extent)
        return FaceSource(name, images[name], box=box)

    splits = split_names(names, test_ids, args.val_count)
    sources = {split: [source(name) for name in members] for split, members in splits.items()}
    prepare_splits(sources, partial(dic_hr_face, hr_size=args.hr_size), args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
