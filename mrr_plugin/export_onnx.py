"""Export a trained face-SR network to ONNX and check it with onnxruntime.

    python -m mrr_plugin.export_onnx --model options/test/MRRNet/test_MRRNet_x8_CelebA.yml --out MRRNet_x8.onnx \
        --dynamic-batch --check-faces ../shared/data/celeba_dic_dev/LR

MODEL is a test option file or ``CHECKPOINT@ARCH[:key=value,...]`` (as the benchmark and restore take). The file
carries the face geometry (input/output side, training crop), so ``python -m mrr_plugin.restore --model net.onnx``
runs it alone. After writing, the ONNX outputs are compared with torch's on ``--check-faces`` (a folder of LR faces;
default: random inputs) and the largest difference is printed; above ``--tolerance`` the command fails.
"""
import argparse
import os
import sys
from os import path as osp

import numpy as np
import torch

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.archs.network_spec import load_network_spec
from mrr_plugin.cli import CommandError, command
from mrr_plugin.data.image_folder import scan_images
from mrr_plugin.restoration import FaceModel
from mrr_plugin.restoration.face_alignment import ALIGNMENTS
from mrr_plugin.restoration.onnx_runtime import OnnxNetwork, export_onnx


def check_inputs(folder, lr_size, count):
    """(count, 3, lr, lr) in [0, 1]: LR faces of ``folder`` resized to ``lr_size``, or seeded random inputs."""
    if folder is None:
        return torch.rand(count, 3, lr_size, lr_size, generator=torch.Generator().manual_seed(0))
    from mrr_plugin.data.face_image_io import BadImageError, read_image
    from mrr_plugin.restoration.face_restorer import bicubic_resize
    from mrr_plugin.utils.visual import rgb_to_batch
    if not osp.isdir(folder):
        raise CommandError(f'--check-faces {folder} is not a folder.')
    names = scan_images(folder).names[:count]
    if not names:
        raise CommandError(f'--check-faces {folder}: no face images there.')
    images = []
    for name in names:
        try:
            images.append(np.asarray(read_image(osp.join(folder, name))))
        except BadImageError as error:
            raise CommandError(f'--check-faces {error}') from error
    return rgb_to_batch([bicubic_resize(image, (lr_size, lr_size)) for image in images], 'cpu')


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='test option file or CHECKPOINT@ARCH[:key=value,...]')
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--dynamic-batch', action='store_true', help='any batch size (default: batch 1)')
    parser.add_argument('--alignment', choices=ALIGNMENTS, help='training crop stored with the model (see restore)')
    parser.add_argument('--face-size', type=int, help='HR face side of a network without in_size')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--check-faces', help='folder of LR faces for the onnxruntime check (default: random)')
    parser.add_argument('--check-count', type=int, default=8)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    args = parser.parse_args(argv)
    if not args.out.endswith('.onnx'):
        raise CommandError(f'--out {args.out}: give a path ending in .onnx.')
    spec = load_network_spec(args.model, 'cpu', '--model')
    alignment = args.alignment or (spec.options.get('restore') or {}).get('alignment')
    model = FaceModel.from_network(spec.network, alignment, args.face_size, spec.network_opt['type'])
    inputs = check_inputs(args.check_faces, model.lr_size, args.check_count)
    print(f'exporting {spec.description} ({model.lr_size} -> {model.hr_size} px, {model.alignment} crop) ...',
          flush=True)
    temporary = f'{args.out}.partial.onnx'  # moved to --out only once onnxruntime agrees with torch
    try:
        export_onnx(spec.network, temporary, model.lr_size, model.hr_size, model.alignment, args.dynamic_batch,
                    args.opset, model.name)
        with torch.no_grad():
            expected = spec.network(inputs)
        difference = float((OnnxNetwork(temporary)(inputs) - expected).abs().max())
        source = args.check_faces or 'random inputs'
        print(f'onnxruntime vs torch on {len(inputs)} faces from {source}: max |difference| {difference:.2e}')
        if not np.isfinite(difference) or difference > args.tolerance:
            raise CommandError(f'the ONNX outputs differ from torch by {difference:.2e} > --tolerance '
                               f'{args.tolerance}; {args.out} was not written.')
        os.replace(temporary, args.out)
    finally:
        if osp.exists(temporary):
            os.remove(temporary)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
