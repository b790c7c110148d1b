"""Measure, on real 128x128 DIC-protocol faces, the three limits that keep ``mrr-restore`` from making a face worse
(``mrr_plugin/restoration/face_guards.py``; README "Never a worse face"):

    python scripts/measure_restore_limits.py --faces ../shared/data/celeba_dic_dev/HR \
        [--model experiments/MRRNet_x8_demo_CPU/models/net_g_latest.pth@MRRNet --real-lr ../shared/data/wider_lr_real]

1. size: PSNR/SSIM (DIC protocol) at 128 px of each face bicubic-upscaled from ``s`` px, for several ``s``, beside the
   face restored by ``--model`` from its 16-px input (``s`` -> 16 -> 128): up to which face size the network helps;
2. pose: the DIC template fit error (:func:`pose_fit_error`) of MTCNN's 5 landmarks on every face;
3. consistency: :func:`lr_consistency_error` of faithful restorations (the HR face itself, bicubic upscaling of
   the input, ``--model``) and of wrong ones (another person's face, the face moved by one input pixel, a colour
   face for a grey input), and of ``--model`` on real low-quality faces (``--real-lr``: no ground truth needed).
"""
import argparse
import sys
from os import path as osp

import numpy as np
import torch
from PIL import Image

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.archs.network_spec import load_network_spec
from mrr_plugin.data.image_folder import list_images
from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic
from mrr_plugin.restoration.face_alignment import face_matrix, pose_fit_error
from mrr_plugin.restoration.face_detectors import build_detector
from mrr_plugin.restoration.face_guards import DEFAULT_MAX_LR_ERROR, lr_consistency_error
from mrr_plugin.restoration.face_restorer import bicubic_resize, to_grey
from mrr_plugin.utils.visual import rgb_to_batch, tensor_to_rgb

SIDES = (16, 20, 24, 28, 32, 40, 48, 64)


def percentiles(values, marks=(50, 90, 99, 99.5, 100)):
    values = np.asarray(values, np.float64)
    return ' | '.join(f'{np.percentile(values, mark):.3f}' for mark in marks)


def restore(network, faces):
    if network is None:
        return None
    out = []
    with torch.no_grad():
        for start in range(0, len(faces), 16):
            out += [tensor_to_rgb(y) for y in network(rgb_to_batch(faces[start:start + 16], 'cpu'))]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--faces', required=True, help='folder of 128x128 HR faces (DIC protocol crops)')
    parser.add_argument('--model', help='an x8 network spec CHECKPOINT@ARCH (16 -> 128) to measure beside bicubic')
    parser.add_argument('--real-lr', help='folder of real low-quality faces (any size, reduced to 16 px) on which to '
                        'measure --model\'s consistency')
    parser.add_argument('--limit', type=int, default=0, help='first N faces only (0: all)')
    parser.add_argument('--sides', type=int, nargs='*', default=list(SIDES), help='face sizes of table 1 (px)')
    parser.add_argument('--limits', type=float, nargs='*', default=[DEFAULT_MAX_LR_ERROR],
                        help='consistency limits whose share of faces above them table 3 shows')
    args = parser.parse_args(argv)
    names = list_images(args.faces)[:args.limit or None]
    hr = [np.asarray(Image.open(osp.join(args.faces, name)).convert('RGB')) for name in names]
    network = load_network_spec(args.model, 'cpu').network.eval() if args.model else None
    lr = [bicubic_resize(face, (16, 16)) for face in hr]

    def scores(outputs):
        psnr = np.mean([calculate_psnr_dic(o[..., ::-1], h[..., ::-1]) for o, h in zip(outputs, hr)])
        ssim = np.mean([calculate_ssim_dic(o[..., ::-1], h[..., ::-1]) for o, h in zip(outputs, hr)])
        return f'{psnr:.2f} / {ssim:.4f}'

    print(f'{len(hr)} faces from {args.faces}\n\n1. size: 128-px face made from an s-px face (PSNR dB / SSIM, DIC '
          'protocol)\n')
    print('| s (px) | s / 16 | bicubic s -> 128 |' + (' model from s -> 16 -> 128 |' if network else ''))
    print('|---|---|---|' + ('---|' if network else ''))
    for side in args.sides:
        small = [bicubic_resize(face, (side, side)) for face in hr]
        row = f'| {side} | {side / 16:.2f} | {scores([bicubic_resize(face, (128, 128)) for face in small])} |'
        if network is not None:
            row += f' {scores(restore(network, [bicubic_resize(face, (16, 16)) for face in small]))} |'
        print(row)

    detector = build_detector('mtcnn')
    errors, missed = [], 0
    for face in hr:
        found = [f for f in detector(face) if f.landmarks is not None]
        if not found:
            missed += 1
            continue
        errors.append(pose_fit_error(found[0], 'dic', face_matrix(found[0], 'dic', 128), 128))
    print(f'\n2. pose: DIC template fit error of MTCNN landmarks ({len(errors)} faces, {missed} without a detection)'
          '\n\n| median | 90 % | 99 % | 99.5 % | max |\n|---|---|---|---|---|\n| '
          + (percentiles(errors) if errors else 'no face detected') + ' |')

    shifted = [np.roll(face, (8, 8), (0, 1)) for face in hr]
    grey_lr = [to_grey(face) for face in lr]
    cases = [('the HR face itself', hr, lr), ('bicubic upscaling of the input', [bicubic_resize(x, (128, 128))
                                                                                 for x in lr], lr)]
    if network is not None:
        cases.append((f'{args.model}', restore(network, lr), lr))
    cases += [('another person\'s face', hr[1:] + hr[:1], lr), ('the face moved by one input pixel', shifted, lr),
              ('a colour face for a grey input', hr, grey_lr)]
    above = ' | '.join(f'> {limit:g}' for limit in args.limits)
    print('\n3. consistency: mean |restored reduced to 16 px - input| (grey levels)\n\n| restored face | median | 90 % '
          f'| 99 % | 99.5 % | max | min | {above} |\n|---|---|---|---|---|---|---|' + '---|' * len(args.limits))
    if network is not None and args.real_lr:
        names = list_images(args.real_lr)[:args.limit or None]
        real = [bicubic_resize(np.asarray(Image.open(osp.join(args.real_lr, name)).convert('RGB')), (16, 16))
                for name in names]
        cases.append((f'{args.model} on {len(real)} real low-quality faces', restore(network, real), real))
    for label, restored, inputs in cases:
        values = np.array([lr_consistency_error(r, x) for r, x in zip(restored, inputs)])
        above = ' | '.join(f'{np.mean(values > limit):.1%}' for limit in args.limits)
        print(f'| {label} | {percentiles(values)} | {np.min(values):.3f} | {above} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
