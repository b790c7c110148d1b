"""Convert an authors' released state dict (MRRNet, SPARNet, MRRGAN discriminator, WFEN, SFMNet, DIC/DICGAN)
into a BasicSR checkpoint.

    python scripts/convert_reference_checkpoint.py --arch MRRNet authors_mrrnet.pth experiments/pretrained/MRRNet.pth
    python scripts/convert_reference_checkpoint.py --arch SPARNet --arch-opt res_depth=1 attention=spar3d in.pth out.pth
    python scripts/convert_reference_checkpoint.py --arch WFEN WFEN.pth experiments/pretrained/WFEN.pth
    python scripts/convert_reference_checkpoint.py --arch DIC best_ckp.pth experiments/pretrained/DIC.pth

Their key names load as they are ('module.' prefixes of DataParallel and DIC's 'netG' / 'state_dict' wrappers are
taken off); WFEN's stored Haar filters are checked and dropped, SFMNet's unused ``spa_att`` weights dropped. The
script prints the ``network_g`` block (with the options that put the authors' input convention inside our class)
and the ``path`` lines to load it.
"""
import argparse

import yaml

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.archs.reference_checkpoint import AUTHORS_CONVENTION, CONVERTIBLE_ARCHS, convert_reference_state_dict
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
    block = {key: {'type': args.arch, **arch_kwargs, **AUTHORS_CONVENTION[args.arch]}}
    print(f'wrote {args.output}; use it with:\n' + yaml.safe_dump(block, sort_keys=False) +
          f'path:\n  pretrain_{key}: {args.output}\n  strict_load_{key[-1]}: true')
    return 0


if __name__ == '__main__':
    run(main)
