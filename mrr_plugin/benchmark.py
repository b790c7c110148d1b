"""Put face SR methods side by side: ``python -m mrr_plugin.benchmark --hr HR --lr LR --out DIR --method ...``.

    python -m mrr_plugin.benchmark --hr datasets/CelebA/test_HR.lmdb --lr datasets/CelebA/test_LR.lmdb \
        --out results/benchmark_CelebA \
        --method MRRNet=options/test/MRRNet/test_MRRNet_x8_CelebA.yml \
        --method EDSR=experiments/EDSR_x8_CelebA/models/net_g_latest.pth@EDSR:upscale=8

Bicubic (PIL, a = -0.5) is always included; ``--sr-folder NAME=DIR`` adds SR faces made elsewhere (matched to the
HR faces by file name; a missing, extra, unreadable or wrongly sized file is refused before anything is scored).
``--protocol dic,sparnet,sfmnet,basicsr`` scores PSNR/SSIM the way each paper's released script does (one column
pair each). Every per-face mean carries a 95 % BCa bootstrap interval over
the faces, and every pair of methods its paired difference with interval and Wilcoxon p (``--ci none``: off).
Writes ``index.html`` (the whole benchmark on one self-contained page: sortable table, face viewer, plots, attention
maps), ``results.md``, ``results.csv``, ``differences.csv``, ``grid.png``,
``attention/<method>.png`` (networks with spatial attention) and ``sr/<method>/*.png`` (grid faces; every face
with ``--save-images``). Methods already evaluated with the same checkpoint, test set and options are reused
unless ``--force``; "same" is by content (digests of the faces' pixels and the method's files), never by
name. ``--out`` is locked while the benchmark runs: a second benchmark into the same folder is refused with one
line. LPIPS needs the AlexNet backbone in torch hub's cache (scripts/provision_offline_weights.py);
landmark/identity columns need facexlib's weights in ``--weights-dir``, FID BasicSR's FID Inception weights
(``pt_inception-2015-12-05-6726825d.pth``) there or in ``experiments/pretrained_models/``; missing ones leave a
column empty with a note. NIQE needs nothing. Without ``--hr`` (real low-quality faces, no ground truth, e.g.
``--lr ../shared/data/wider_lr_real``) every method is scored by NIQE alone.
"""
import argparse
import os
import sys

import torch

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.cli import CommandError, command
from mrr_plugin.evaluation.comparisons import compare
from mrr_plugin.evaluation.methods import bicubic_method, method_from_folder, method_from_spec
from mrr_plugin.evaluation.published import published_table
from mrr_plugin.evaluation.report import write_attention_maps, write_grid, write_tables
from mrr_plugin.evaluation.report_page import write_report_page
from mrr_plugin.evaluation.runner import DEFAULT_PROTOCOLS, evaluate_method, load_test_set, load_unpaired_set, lr_batch
from mrr_plugin.metrics.paper_protocols_metric import PROTOCOLS
from mrr_plugin.metrics.uncertainty import INTERVAL_METHODS
from mrr_plugin.utils.run_lock import FolderLock


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hr', help='HR test faces: folder or LMDB (without it: --lr holds real faces without '
                        'ground truth, scored by NIQE only)')
    parser.add_argument('--lr', required=True, help='paired LR test faces: folder or LMDB; or, without --hr, a folder '
                        'of real low-quality faces (reduced to 128 / scale with area interpolation)')
    parser.add_argument('--out', required=True, help='results folder')
    parser.add_argument('--method', action='append', default=[], metavar='NAME=SPEC',
                        help='NAME=test_options.yml or NAME=checkpoint.pth@ARCH[:key=value,...] (repeatable)')
    parser.add_argument('--sr-folder', action='append', default=[], metavar='NAME=DIR',
                        help='score SR faces made elsewhere (another toolbox, released results) beside the networks: '
                        'DIR holds one image per test face, named like the HR face (any image extension; repeatable)')
    parser.add_argument('--scale', type=int, default=8)
    parser.add_argument('--limit', type=int, help='only the first N faces (by file name)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--timing-batch', type=int, default=8, help='batch N of the throughput column')
    parser.add_argument('--timing-runs', type=int, default=5)
    parser.add_argument('--grid-faces', type=int, default=6)
    parser.add_argument('--attention-blocks', help='comma-separated block names, e.g. encoder.1.att_func')
    parser.add_argument('--weights-dir', help="facexlib weights (landmark distance, identity)")
    parser.add_argument('--lpips-backbone', help='AlexNet weights for LPIPS (default: torch hub cache)')
    parser.add_argument('--save-images', action='store_true', help='save every SR output as PNG')
    parser.add_argument('--force', action='store_true', help='recompute methods evaluated before')
    parser.add_argument('--published', metavar='DATASET', choices=['CelebA', 'Helen', 'CelebA-TestN'],
                        help='also list the published x8 numbers of this test set (quoted, marked as such)')
    parser.add_argument('--protocol', default=','.join(DEFAULT_PROTOCOLS),
                        help=f'PSNR/SSIM protocols, comma-separated, one column pair each: {", ".join(PROTOCOLS)} '
                        f'(default {",".join(DEFAULT_PROTOCOLS)}; see mrr_plugin/metrics/paper_protocols_metric.py)')
    parser.add_argument('--ci', default='bca', choices=[*INTERVAL_METHODS, 'none'],
                        help='confidence intervals over faces of every per-face mean and paired difference: BCa or '
                        'percentile bootstrap, or none (default bca)')
    parser.add_argument('--ci-level', type=float, default=0.95)
    parser.add_argument('--ci-resamples', type=int, default=2000, help='bootstrap resamples of the faces')
    parser.add_argument('--ci-seed', type=int, default=0, help='seed of the resamples (same seed: same intervals)')
    return parser.parse_args(argv)


@command
def main(argv=None):
    args = parse_args(argv)
    if not 0 < args.ci_level < 1 or args.ci_resamples < 1:
        raise CommandError(f'--ci-level {args.ci_level} / --ci-resamples {args.ci_resamples}: the level is a fraction '
                           'between 0 and 1 (e.g. 0.95), the resamples a positive count.')
    protocols = [p.strip() for p in args.protocol.split(',') if p.strip()]
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown or not protocols:
        raise CommandError(f'--protocol {args.protocol}: known protocols are {", ".join(PROTOCOLS)}.')
    try:
        methods = [bicubic_method()] + [method_from_spec(spec, args.device) for spec in args.method]
        faces = (load_test_set(args.hr, args.lr, args.limit, args.scale) if args.hr
                 else load_unpaired_set(args.lr, args.limit, 128 // args.scale))
        methods += [method_from_folder(spec, faces, args.scale, args.limit is not None) for spec in args.sr_folder]
        names = [m.name for m in methods]
        if len(set(names)) != len(names):
            raise CommandError(f'Method names must differ: {names}.')
        probe = lr_batch(faces[:args.batch_size], args.device)
        for method in methods:  # refuse a network with non-finite outputs before --out is created
            if not method.from_folder:
                method.super_resolve(probe, args.scale)
    except (RuntimeError, TypeError) as error:  # a network that cannot run on these faces
        raise CommandError(str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    with FolderLock(args.out, '--out') as lock:  # another benchmark writing there: one line, nothing touched
        if lock.note:
            print(f'note: {lock.note}', file=sys.stderr)
        return write_benchmark(args, methods, faces, protocols)


def write_benchmark(args, methods, faces, protocols):
    """Evaluate every method (reusing stored results of the same content) and write the tables, grid and maps."""
    options = {'batch_size': args.batch_size, 'timing_batch': args.timing_batch, 'timing_runs': args.timing_runs,
               'grid_faces': args.grid_faces, 'weights_dir': args.weights_dir, 'lpips_backbone': args.lpips_backbone,
               'save_images': args.save_images, 'protocols': protocols}
    os.makedirs(args.out, exist_ok=True)
    records = [evaluate_method(m, faces, args.out, options, args.scale, args.device, args.force) for m in methods]
    device_name = (torch.cuda.get_device_name()
                   if args.device.startswith('cuda') else f'CPU ({torch.get_num_threads()} threads)')
    context = (f'{len(faces)} faces from {args.hr}, x{args.scale}, {device_name}' if args.hr else
               f'{len(faces)} real faces without ground truth from {args.lr} (NIQE only), x{args.scale}, {device_name}')
    comparison = (None if args.ci == 'none' else
                  compare(records, args.ci, args.ci_resamples, args.ci_level, args.ci_seed))
    table = write_tables(records, args.out, context, protocols, comparison)
    if args.published:
        quoted = '\n'.join(['', *published_table(args.published)])
        with open(os.path.join(args.out, 'results.md'), 'a') as f:
            f.write(quoted + '\n')
        table += '\n' + quoted
    write_grid(records, faces, args.out, args.grid_faces)
    blocks = args.attention_blocks.split(',') if args.attention_blocks else None
    for method in methods:
        write_attention_maps(method, faces, args.out, blocks, args.grid_faces, args.device)
    write_report_page(records, faces, args.out, context, protocols, comparison)
    print(table)
    print(f'\nWrote {args.out}/index.html (one page: table, faces, plots, attention), results.md, results.csv, '
          'grid.png, attention/ and sr/')
    return 0


if __name__ == '__main__':
    sys.exit(main())
