"""Helen -> the x8 face-SR sets with the DIC crop (128x128 HR, 16x16 LR), FSRNet's test split.

    mrr-prepare-helen --images Helen/images --annotations Helen/annotation \
        --test-list helen_test_names.txt --out datasets/Helen

The face box is the bounding box of Helen's 194 landmarks (face outline, eyes, brows, nose, lips); the crop is
the DIC one (square, 1.3 x the box side, clipped, PIL bicubic to 128; LR bicubic 128 -> 16). --test-list names the
test images one per line (FSRNet's 50 test faces); the rest are train (minus --val-count). Images are searched
recursively (Helen ships them in helen_1 ... helen_5). Resumable; prints skipped/bad files.
"""
import argparse
import sys
from functools import partial

from mrr_plugin.cli import CommandError, command
from mrr_plugin.preparation.face_annotations import read_helen_annotations, read_name_list
from mrr_plugin.preparation.face_preparation import (FaceSource, add_output_arguments, annotated_names, dic_hr_face,
                                                     find_images, landmark_box, prepare_splits, split_names)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True, help='folder with the Helen .jpg images (searched recursively)')
    parser.add_argument('--annotations', required=True, help="Helen's annotation/ folder (1.txt ... 2330.txt)")
    parser.add_argument('--test-list', required=True, help='test image names, one per line (FSRNet: 50)')
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    annotations = read_helen_annotations(args.annotations)  # AnnotationError / OSError: one line (@command)
    test_names = read_name_list(args.test_list)
    images = find_images(args.images, recursive=True)
    unknown = [name for name in test_names if name not in annotations]
    if unknown:
        raise CommandError(f'{len(unknown)} test names have no annotation, e.g. {unknown[:3]}')
    names = annotated_names(annotations, images, args.limit)
    splits = split_names(names, test_names, args.val_count)
    sources = {split: [FaceSource(n, images[n], box=landmark_box(annotations[n])) for n in members]
               for split, members in splits.items()}
    prepare_splits(sources, partial(dic_hr_face, hr_size=args.hr_size), args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
