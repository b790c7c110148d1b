"""FFHQ 1024x1024 -> 512x512 HR faces for SPARNetHD (LR is made on the fly by FaceDegradationDataset).

    mrr-prepare-ffhq --images FFHQ/images1024x1024 --out datasets/FFHQ --val-count 1000

FFHQ faces are already aligned; each is resized with PIL bilinear (as SPARNetHD) to --hr-size (512) and written
to <out>/{train,val}_HR.lmdb (PNG folders first, resumable), what the SPARNetHD option file reads. --scale 8 also
writes bicubic LR images (64x64) for bicubic-x8 work at 512.
"""
import argparse
import sys
from functools import partial

from PIL import Image

from mrr_plugin.cli import command
from mrr_plugin.preparation.face_preparation import (FaceSource, add_output_arguments, dic_hr_face, find_images,
                                                     prepare_splits, split_names)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True, help='images1024x1024/ (searched recursively)')
    add_output_arguments(parser, hr_size=512, scale=0)
    args = parser.parse_args(argv)
    images = find_images(args.images, recursive=True)  # OSError: one line (@command)
    names = sorted(images)[:args.limit or None]
    splits = split_names(names, val_count=args.val_count)
    sources = {split: [FaceSource(n, images[n]) for n in members] for split, members in splits.items()}
    prepare_splits(sources, partial(dic_hr_face, hr_size=args.hr_size, resample=Image.BILINEAR), args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
