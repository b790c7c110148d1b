"""Apply a trained High-to-Low generator to HR faces: a paired LR/HR set with learned, realistic degradations.

    mrr-degrade-faces --opt options/train/DegradationGAN/train_DegradationGAN_x8_CelebA_WIDER.yml \
        --h2l experiments/DegradationGAN_x8_CelebA_WIDER/models/net_h2l_latest.pth \
        --hr datasets/CelebA/train_HR.lmdb --out datasets/CelebA_H2L --split train

The H2L architecture comes from ``network_h2l`` of the training option file. Each face gets its own noise vector
z ~ N(0, I) seeded by --seed and its position, so the set is reproducible. Writes <out>/<split>/{HR,LR} PNGs
(resumable) and then <out>/<split>_HR.lmdb and <out>/<split>_LR.lmdb, which PairedImageDataset reads and
FaceSRModel trains on (MRRNet, SPARNet, baselines) in place of bicubic LR faces.
"""
import argparse
import sys
from os import path as osp

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)
from mrr_plugin.cli import CommandError, command

# isort: split
import torch
from PIL import Image

from mrr_plugin.archs.network_spec import load_network_from_training_options
from mrr_plugin.data.face_bicubic_dataset import FaceImageReader
from mrr_plugin.data.face_image_io import bicubic, to_tensor
from mrr_plugin.data.face_lmdb import io_backend_for, lmdb_key
from mrr_plugin.preparation.face_preparation import FaceSource, pack_lmdb, write_face_pairs
from mrr_plugin.utils.visual import tensor_to_rgb


def degrade_face(h2l, hr, index, seed=0):
    """H2L's LR face (RGB uint8) for the HR ``PIL.Image`` ``hr``; z is seeded by ``seed`` and the face ``index``,
    so a set of faces is degraded reproducibly."""
    device = next(h2l.parameters()).device
    z = torch.randn(1, h2l.noise_dim, generator=torch.Generator().manual_seed(seed * 1_000_003 + index))
    with torch.no_grad():
        lr = h2l(to_tensor(hr).unsqueeze(0).to(device), z.to(device))[0]
    return tensor_to_rgb(lr)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--opt', required=True, help='the training option file (network_h2l)')
    parser.add_argument('--h2l', required=True, help='net_h2l checkpoint')
    parser.add_argument('--hr', required=True, help='HR faces: an LMDB (with meta_info.txt) or an image folder')
    parser.add_argument('--out', required=True, help='output root')
    parser.add_argument('--split', default='train', help='split name (default train)')
    parser.add_argument('--format', choices=['lmdb', 'png'], default='lmdb')
    parser.add_argument('--seed', type=int, default=0, help='noise seed (default 0)')
    parser.add_argument('--limit', type=int, default=0, help='only the first N faces')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    try:
        h2l = load_network_from_training_options(args.opt, 'network_h2l', args.h2l, args.device)
        reader = FaceImageReader(args.hr, io_backend_for(args.hr), 'hr', '--hr')
    except RuntimeError as error:  # a checkpoint that does not fit; OSError / ValueError: @command's one line
        raise CommandError(error) from error
    hr_size, scale = h2l.hr_size, h2l.scale
    count = min(len(reader), args.limit or len(reader))
    index_of = {}
    sources = []
    for index in range(count):
        name = lmdb_key(osp.basename(reader.paths[index]))
        index_of[name] = index
        sources.append(FaceSource(name, reader.paths[index]))

    def make_hr(source):
        return bicubic(reader.read(index_of[source.name]), hr_size)

    def make_lr(source, hr):
        return Image.fromarray(degrade_face(h2l, hr, index_of[source.name], args.seed))

    report = write_face_pairs(sources, osp.join(args.out, args.split), make_hr, scale, desc='H2L',
                              make_lr=make_lr)
    print(report.summary(args.split))
    if args.format == 'lmdb':
        print(f'{args.split}: packed {", ".join(pack_lmdb(args.out, args.split, hr_size, scale))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
