"""The main job in one command: build LMDBs, train MRRNet briefly on CPU, compare it with bicubic.

    python -m mrr_plugin.demo                       # built-in synthetic cartoon faces (no data needed)
    python -m mrr_plugin.demo --faces ../shared/data/celeba_dic_dev   # real faces: DIR/HR (+ DIR/LR) or DIR

Steps: faces -> ``datasets/demo/{train_HR,val_HR,val_LR}.lmdb`` (the last ``--val-count`` faces are held out) ->
``python -m mrr_plugin.train -opt options/train/MRRNet/train_MRRNet_x8_demo_CPU.yml`` (BasicSR's pipeline:
experiments/, tb_logger/) -> PSNR/SSIM of bicubic and MRRNet on the held-out faces, printed and written to
``results/demo/results.md`` with a grid ``results/demo/grid.png`` (LR | bicubic | MRRNet | HR).
"""
import argparse
import os
import subprocess
import sys
import tempfile
from os import path as osp

import numpy as np
import torch
from PIL import Image

import mrr_plugin  # noqa: F401
from mrr_plugin.archs.mrrnet_arch import MRRNet
from mrr_plugin.cli import CommandError, command
from mrr_plugin.data.face_image_io import bicubic
from mrr_plugin.data.face_lmdb import build_face_lmdb
from mrr_plugin.data.image_folder import list_images
from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic
from mrr_plugin.preparation.synthetic_faces import write_synthetic_faces
from mrr_plugin.utils import project_root
from mrr_plugin.utils.checkpoint_file import load_checkpoint
from mrr_plugin.utils.option_file import load_option_file
from mrr_plugin.utils.visual import labelled_grid, write_png

DEMO_OPTIONS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'options', 'train', 'MRRNet',
                        'train_MRRNet_x8_demo_CPU.yml')
SYNTHETIC_COUNT = 360


def face_folders(faces):
    """(HR folder, LR folder or None) of a face directory: ``DIR/HR`` + ``DIR/LR`` if present, else DIR itself."""
    if osp.isdir(osp.join(faces, 'HR')):
        lr = osp.join(faces, 'LR')
        return osp.join(faces, 'HR'), lr if osp.isdir(lr) else None
    if not osp.isdir(faces):
        raise CommandError(f'--faces {faces} is not a folder.')
    return faces, None


def build_demo_lmdbs(hr_folder, lr_folder, data_dir, val_count):
    """Held-out paired val LMDBs from the last ``val_count`` faces, the rest as the HR training LMDB."""
    names = list_images(hr_folder)
    if len(names) <= val_count:
        raise CommandError(f'{hr_folder} has {len(names)} images; need more than --val-count {val_count}.')
    train_names, val_names = names[:-val_count], names[-val_count:]
    os.makedirs(data_dir, exist_ok=True)
    build_face_lmdb(hr_folder, osp.join(data_dir, 'train_HR.lmdb'), names=train_names, overwrite=True)
    with tempfile.TemporaryDirectory() as made_lr:
        if lr_folder is None:  # LR as the DIC protocol makes it: PIL bicubic 128 -> 16
            for name in val_names:
                bicubic(Image.open(osp.join(hr_folder, name)).convert('RGB'), 16).save(
                    osp.join(made_lr, osp.splitext(name)[0] + '.png'))
            lr_folder = made_lr
        build_face_lmdb(hr_folder, osp.join(data_dir, 'val_HR.lmdb'), lr_folder, osp.join(data_dir, 'val_LR.lmdb'),
                        names=val_names, overwrite=True)
    return val_names


def train(root, iters):
    command = [sys.executable, '-m', 'mrr_plugin.train', '-opt', DEMO_OPTIONS]
    if iters is not None:
        command += ['--force_yml', f'train:total_iter={iters}']
    print('+', ' '.join(command), flush=True)
    returncode = subprocess.run(command, cwd=root).returncode
    if returncode != 0:  # the training command printed its own one-line error above
        raise CommandError(f'the training step stopped with exit status {returncode}; see its message above.',
                           code=returncode)


def evaluate(net, hr_folder, lr_folder, val_names, grid_faces=6):
    """Bicubic and ``net`` on the held-out faces: DIC-protocol PSNR/SSIM and grid rows."""
    scores = {'bicubic': [], 'MRRNet': []}
    rows = []
    for name in val_names:
        hr = Image.open(osp.join(hr_folder, name)).convert('RGB')
        lr = bicubic(hr, 16) if lr_folder is None else Image.open(
            osp.join(lr_folder, osp.splitext(name)[0] + '.png')).convert('RGB')
        up = np.asarray(bicubic(lr, hr.size[0]))
        with torch.no_grad():
            sr = net(torch.from_numpy(np.asarray(lr, np.float32).transpose(2, 0, 1)[None] / 255.0))
        sr = (sr[0].clamp(0, 1).numpy().transpose(1, 2, 0) * 255.0).round().astype(np.uint8)
        gt = np.asarray(hr)
        for method, image in (('bicubic', up), ('MRRNet', sr)):
            scores[method].append((calculate_psnr_dic(image, gt, 8, channel_order='rgb'),
                                   calculate_ssim_dic(image, gt, 8, channel_order='rgb')))
        if len(rows) < grid_faces:
            rows.append([np.asarray(lr), up, sr, gt])
    table = ['| method | PSNR (dB, DIC) | SSIM (DIC) |', '|---|---|---|']
    for method, values in scores.items():
        psnr, ssim = np.mean(values, axis=0)
        table.append(f'| {method} | {psnr:.2f} | {ssim:.4f} |')
    return table, rows


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--faces', help='face folder (DIR/HR [+ DIR/LR], or a folder of HR faces); '
                        'default: built-in synthetic cartoon faces')
    parser.add_argument('--iters', type=int, help='training iterations (default: as in the demo YAML)')
    parser.add_argument('--val-count', type=int, default=40, help='faces held out for validation (default 40)')
    args = parser.parse_args(argv)

    root = project_root()
    if args.faces:
        hr_folder, lr_folder = face_folders(osp.abspath(args.faces))
        source = f'real faces from {args.faces}'
    else:
        hr_folder, lr_folder = osp.join(root, 'datasets', 'demo_synthetic', 'HR'), None
        if len(list_images(hr_folder) if osp.isdir(hr_folder) else []) < SYNTHETIC_COUNT:
            write_synthetic_faces(hr_folder, SYNTHETIC_COUNT)
        source = 'built-in SYNTHETIC cartoon faces (not real faces: the numbers say nothing about face SR)'
    print(f'Demo data: {source}', flush=True)
    val_names = build_demo_lmdbs(hr_folder, lr_folder, osp.join(root, 'datasets', 'demo'), args.val_count)

    train(root, args.iters)

    opt = load_option_file(DEMO_OPTIONS)
    checkpoint = osp.join(root, 'experiments', opt['name'], 'models', 'net_g_latest.pth')
    net = MRRNet(**{k: v for k, v in opt['network_g'].items() if k != 'type'}).eval()
    net.load_state_dict(load_checkpoint(checkpoint)['params'])
    table, rows = evaluate(net, hr_folder, lr_folder, val_names)

    out_dir = osp.join(root, 'results', 'demo')
    os.makedirs(out_dir, exist_ok=True)
    header = (f'Short CPU demo ({source}); {len(val_names)} held-out faces; DIC protocol (Y, 8-px border). '
              'Not a paper-comparable result.')
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(header + '\n\n' + '\n'.join(table) + '\n')
    write_png(osp.join(out_dir, 'grid.png'), labelled_grid(rows, ['LR 16x16', 'bicubic', 'MRRNet', 'HR']))
    print('\n' + header + '\n' + '\n'.join(table))
    print(f'\nWrote {osp.join(out_dir, "results.md")} and {osp.join(out_dir, "grid.png")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
