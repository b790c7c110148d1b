"""Build BasicSR LMDBs from a folder of face images (and optionally a paired LR folder).

Examples:
    # HR only (training with on-the-fly LR, FaceBicubicDataset)
    mrr-create-face-lmdb --hr datasets/CelebA/train/HR --out-hr datasets/CelebA/train_HR.lmdb
    # paired HR/LR test set (PairedImageDataset)
    mrr-create-face-lmdb --hr datasets/CelebA/test/HR --lr datasets/CelebA/test/LR \
        --out-hr datasets/CelebA/test_HR.lmdb --out-lr datasets/CelebA/test_LR.lmdb
"""
import argparse
import sys

from mrr_plugin.cli import CommandError, command
from mrr_plugin.data.face_lmdb import LmdbBuildError, build_face_lmdb


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hr', required=True, help='folder of HR face images')
    parser.add_argument('--out-hr', required=True, help='output HR LMDB folder, e.g. datasets/x/train_HR.lmdb')
    parser.add_argument('--lr', help='folder of paired LR faces (same file stems)')
    parser.add_argument('--out-lr', help='output LR LMDB folder (with --lr)')
    parser.add_argument('--hr-size', type=int, default=128, help='required HR size, 0 accepts any (default 128)')
    parser.add_argument('--scale', type=int, default=8, help='LR size = hr-size / scale (default 8)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output LMDBs')
    parser.add_argument('--skip-bad', action='store_true', help='leave bad images out instead of failing')
    args = parser.parse_args(argv)
    try:
        report = build_face_lmdb(args.hr, args.out_hr, args.lr, args.out_lr, hr_size=args.hr_size or None,
                                 scale=args.scale, overwrite=args.overwrite, skip_bad=args.skip_bad)
    except LmdbBuildError as error:
        raise CommandError(error) from error
    for name, reason in report.bad.items():
        print(f'skipped {reason}', file=sys.stderr)
    print(f'wrote {report.written} faces to {", ".join(report.outputs)} ({len(report.bad)} skipped)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
