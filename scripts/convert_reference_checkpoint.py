"""Convert an authors' MRRNet / SPARNet / MRRGAN-discriminator state dict into a BasicSR checkpoint.

    python scripts/convert_reference_checkpoint.py --arch MRRNet authors_mrrnet.pth experiments/pretrained/MRRNet.pth
    python scripts/convert_reference_checkpoint.py --arch SPARNet --arch-opt res_depth=1 attention=spar3d in.pth out.pth

Load the result with ``path.pretrain_network_g: <OUT>`` and ``range_norm: true`` in ``network_g`` (the authors'
nets work in [-1, 1]); the script prints the exact YAML block.
"""
import argparse

import yaml

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.archs.reference_checkpoint import CONVERTIBLE_ARCHS, convert_reference_state_dict
from mrr_plugin.cli import CommandError, run
from mrr_plugin.compat import atomic_torch_save
from mrr_plugin.utils.checkpoint_file import load_checkpoint
from mrr_plugin.utils.option_file import parse_key_values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', required=True, choices=CONVERTIBLE_ARCHS)
    parser.add_argument('--arch-opt', nargs='*', default=[], metavar='KEY=VALUE', help='constructor options')
    parser.add_argument('input', help="the authors' .pth (state dict)")
    parser.add_argument('output', help='BasicSR checkpoint to write ({"params": ...})')
    args = parser.parse_args(argv)
    try:
        arch_kwargs = parse_key_values(args.arch_opt)
        checkpoint = load_checkpoint(args.input)
        converted = convert_reference_state_dict(args.arch, checkpoint, **arch_kwargs)
    except (OSError, ValueError, RuntimeError, TypeError) as error:
        raise CommandError(f'{args.input}: {error}') from error
    atomic_torch_save(converted, args.output)
    key = 'network_d' if args.arch == 'MRRPatchDiscriminator' else 'network_g'
    block = {key: {'type': args.arch, **arch_kwargs, 'range_norm': True}}
    if key == 'network_g':
        block[key]['upscale'] = 8
    print(f'wrote {args.output}; use it with:\n' + yaml.safe_dump(block, sort_keys=False) +
          f'path:\n  pretrain_{key}: {args.output}\n  strict_load_{key[-1]}: true')
    return 0


if __name__ == '__main__':
    run(main)
