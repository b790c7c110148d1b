"""Real low-quality faces vs. H2L-generated vs. bicubic LR faces: a grid and no-reference statistics; optionally
SR results of several networks on the real faces, side by side.

    python scripts/compare_degradations.py --real-lr ../shared/data/wider_lr_real --hr datasets/CelebA/test_HR.lmdb \
        --opt options/train/DegradationGAN/train_DegradationGAN_x8_CelebA_WIDER.yml \
        --h2l experiments/DegradationGAN_x8_CelebA_WIDER/models/net_h2l_latest.pth --out results/degradations \
        --sr "bicubic-trained MRRNet=experiments/MRRNet_x8_CelebA/models/net_g_latest.pth@MRRNet" \
        --sr "H2L-trained MRRNet=experiments/MRRNet_x8_H2L/models/net_g_latest.pth@MRRNet"

Writes <out>/degradation_grid.png (columns: real LR, H2L LR, bicubic LR; the faces are unpaired, so columns of a
row are different people), <out>/degradation_stats.md and .csv (mean and std over --stats-count faces of each
set: sharpness = variance of the Laplacian, Immerkaer noise sigma, 8x8 JPEG blockiness, colour means and the
histogram intersection with the real faces), and with --sr <out>/real_sr_grid.png.
"""
import argparse
import csv
import os
from os import path as osp

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)
from mrr_plugin.cli import CommandError, run

# isort: split
import numpy as np
import torch
from PIL import Image

from mrr_plugin.archs.network_spec import load_network_from_training_options
from mrr_plugin.data.face_bicubic_dataset import FaceImageReader
from mrr_plugin.data.face_image_io import bicubic, to_tensor
from mrr_plugin.data.face_lmdb import io_backend_for
from mrr_plugin.data.unpaired_face_dataset import resize_real_lr
from mrr_plugin.evaluation.methods import method_from_spec
from mrr_plugin.metrics.no_reference_stats import (colour_histogram, histogram_intersection, jpeg_blockiness,
                                                   noise_sigma, sharpness)
from mrr_plugin.preparation.degrade_faces import degrade_face
from mrr_plugin.utils.visual import labelled_grid, tensor_to_rgb, write_png

STATS = [('sharpness', sharpness), ('noise sigma', noise_sigma), ('JPEG blockiness', jpeg_blockiness)]


def statistics(sets):
    """``[(set name, {column: value})]``: mean/std of each statistic, colour means, histogram match to real."""
    real_hist = np.mean([colour_histogram(face) for face in sets['real LR']], axis=0)
    rows = []
    for name, faces in sets.items():
        row = {}
        for stat, function in STATS:
            values = np.array([function(face) for face in faces], np.float64)
            row[f'{stat} mean'], row[f'{stat} std'] = np.nanmean(values), np.nanstd(values)
        means = np.mean([face.reshape(-1, 3).mean(0) for face in faces], axis=0)
        row['mean R'], row['mean G'], row['mean B'] = means
        row['colour hist. match'] = histogram_intersection(
            np.mean([colour_histogram(face) for face in faces], axis=0), real_hist)
        rows.append((name, row))
    return rows


def write_stats(rows, out_dir, context):
    columns = list(rows[0][1])
    lines = [f'# LR face statistics ({context})', '', '| set | ' + ' | '.join(columns) + ' |',
             '|---' * (len(columns) + 1) + '|']
    lines += [f'| {name} | ' + ' | '.join(f'{row[c]:.3f}' for c in columns) + ' |' for name, row in rows]
    with open(osp.join(out_dir, 'degradation_stats.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(out_dir, 'degradation_stats.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['set', *columns])
        writer.writerows([name, *(f'{row[c]:.6g}' for c in columns)] for name, row in rows)
    print('\n'.join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--real-lr', required=True, help='real low-quality faces (folder or LMDB)')
    parser.add_argument('--hr', required=True, help='HR faces (folder or LMDB)')
    parser.add_argument('--opt', required=True, help='DegradationGAN training option file (network_h2l)')
    parser.add_argument('--h2l', required=True, help='net_h2l checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--sr', action='append', default=[], metavar='NAME=SPEC',
                        help='an SR network to run on the real faces: NAME=ckpt.pth@ARCH[:k=v] or NAME=test.yml')
    parser.add_argument('--grid-faces', type=int, default=8)
    parser.add_argument('--stats-count', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    try:
        h2l = load_network_from_training_options(args.opt, 'network_h2l', args.h2l, args.device)
        real_reader = FaceImageReader(args.real_lr, io_backend_for(args.real_lr), 'real_lr', '--real-lr')
        hr_reader = FaceImageReader(args.hr, io_backend_for(args.hr), 'hr', '--hr')
        methods = [method_from_spec(spec, args.device) for spec in args.sr]
    except (OSError, ValueError, RuntimeError) as error:
        raise CommandError(error) from error
    lr_size = h2l.hr_size // h2l.scale
    count = max(args.grid_faces, args.stats_count)
    real = [np.asarray(resize_real_lr(real_reader.read(i), lr_size)) for i in range(min(count, len(real_reader)))]
    hr_faces = [bicubic(hr_reader.read(i), h2l.hr_size) for i in range(min(count, len(hr_reader)))]
    sets = {'real LR': real, 'H2L LR': [degrade_face(h2l, hr, i, args.seed) for i, hr in enumerate(hr_faces)],
            'bicubic LR': [np.asarray(bicubic(hr, lr_size)) for hr in hr_faces]}
    os.makedirs(args.out, exist_ok=True)

    rows = [[faces[i] for faces in sets.values()] for i in range(min(args.grid_faces, len(real), len(hr_faces)))]
    write_png(osp.join(args.out, 'degradation_grid.png'), labelled_grid(rows, list(sets), cell=96))
    write_stats(statistics({name: faces[:args.stats_count] for name, faces in sets.items()}), args.out,
                f'{lr_size}x{lr_size}, {min(len(real), args.stats_count)} real and '
                f'{min(len(hr_faces), args.stats_count)} HR faces')
    if methods:
        real_batch = torch.stack([to_tensor(Image.fromarray(face)) for face in real[:args.grid_faces]]).to(args.device)
        outputs = [[tensor_to_rgb(sr) for sr in method.super_resolve(real_batch, h2l.scale)] for method in methods]
        sr_rows = [[real[i], *(out[i] for out in outputs)] for i in range(len(real_batch))]
        write_png(osp.join(args.out, 'real_sr_grid.png'),
                  labelled_grid(sr_rows, ['real LR'] + [m.name for m in methods], cell=128))
    print(f'wrote {args.out}/degradation_grid.png, degradation_stats.md/.csv'
          + (', real_sr_grid.png' if methods else ''))
    return 0


if __name__ == '__main__':
    run(main)
