"""A PNG grid of FaceDegradationDataset samples (HR | several degraded LR draws), to look at the degradations.

    python scripts/show_degradations.py --faces ../shared/data/celeba_dic_dev/HR --out results/degradations.png
    python scripts/show_degradations.py --faces DIR --out x8.png --set gt_size=128 down_size=[8,16] lq_size=16
"""
import argparse
import random

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)
from mrr_plugin.cli import CommandError, run

# isort: split
import numpy as np
import torch
from basicsr.data import build_dataset

from mrr_plugin.data.face_lmdb import io_backend_for
from mrr_plugin.utils.option_file import parse_key_values
from mrr_plugin.utils.visual import labelled_grid, tensor_to_rgb, write_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--faces', required=True, help='folder (or LMDB) of HR faces')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--count', type=int, default=6, help='faces (rows)')
    parser.add_argument('--samples', type=int, default=4, help='degraded draws per face (columns)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--set', nargs='*', default=[], metavar='KEY=VALUE', help='dataset options (YAML values)')
    args = parser.parse_args(argv)
    opt = {'name': 'show', 'type': 'FaceDegradationDataset', 'dataroot_gt': args.faces, 'phase': 'train',
           'io_backend': io_backend_for(args.faces), 'gt_size': 128,
           'down_size': [32, 96], 'use_hflip': False}
    opt.update(parse_key_values(args.set))
    try:
        dataset = build_dataset(opt)
    except (OSError, ValueError) as error:
        raise CommandError(error) from error
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rows = []
    for index in range(min(args.count, len(dataset))):
        draws = [dataset[index] for _ in range(args.samples)]
        rows.append([tensor_to_rgb(draws[0]['gt'])] + [tensor_to_rgb(d['lq']) for d in draws])
    write_png(args.out, labelled_grid(rows, ['HR'] + [f'degraded {i + 1}' for i in range(args.samples)]))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    run(main)
