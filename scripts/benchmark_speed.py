"""Speed of the registered generators and of each speed option, as ratios to plain fp32 eager in the same run.

    python scripts/benchmark_speed.py                         # MRRNet, SPARNet, SRResNet-x8, EDSR on this device
    python scripts/benchmark_speed.py --archs MRRNet --runs 7 --checkpoint experiments/X/models/net_g_latest.pth
    python scripts/benchmark_speed.py --data                  # data path vs training step
    python scripts/benchmark_speed.py --metrics               # batched DIC metrics vs BasicSR's per-image loop
    python scripts/benchmark_speed.py --archs MRRNet --authors-code MRRNet=../MRRNet   # + the authors' own code
    python scripts/benchmark_speed.py --archs WFEN SFMNet DIC --authors-code WFEN=../WFEN SFMNet=../SFMNet \
        DIC=../Deep-Iterative-Collaboration

For every arch: forward latency (batch 1), forward throughput (--batch, default 8), training-step throughput
(forward + backward + Adam, --batch faces, 128x128 output), peak memory (the most a training step allocates on top
of what it starts with: CUDA allocator peak; CPU: live tensor bytes from the allocation records of the profiler's
exported trace), GMACs and achieved
GFLOP/s, each the median of --runs after warm-up. Speed options: channels_last, torch.compile
(inductor; and with weight freezing + max-autotune for inference) and bf16 autocast, for inference and training;
'whole-batch blocks' and 'unpaired branches' switch off the chunked inference of the full-size blocks
(FaceSRSkeleton's inference_chunk) and the paired narrow attention branches, to show what each buys.
--authors-code adds the authors' fp32 eager network (from their checkout, same weights) and each option's speed-up
over it, timed alternately call by call (median of the per-pair ratios: load on the machine slows both). Each
option's outputs are compared with the plain run (stated tolerance, PASS/FAIL); for bf16 the PSNR change on real
faces is reported when ../shared is present.
The machine is noisy: only ratios measured in one run mean anything.
"""
import argparse
import contextlib
import os
import os.path as osp
import sys

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)

# isort: split
import numpy as np
import torch
from basicsr.archs import build_network

from mrr_plugin.archs.face_sr_skeleton import FaceSRSkeleton
from mrr_plugin.archs.mrrnet_arch import MultiReceptiveFieldFeatures
from mrr_plugin.evaluation.profiling import (count_parameters, gmacs_per_image, median_seconds, paired_seconds,
                                             peak_memory_mb)
from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic, psnr_ssim_dic_batch
from mrr_plugin.utils.checkpoint_file import load_checkpoint

from authors_code import AUTHORS_CLASSES, authors_input, authors_network, authors_outputs

ARCHS = {
    'MRRNet': {'type': 'MRRNet'},
    'SPARNet': {'type': 'SPARNet'},
    'SRResNet-x8': {'type': 'MSRResNetX8'},
    'EDSR': {'type': 'EDSR', 'num_in_ch': 3, 'num_out_ch': 3, 'upscale': 8},
    'WFEN': {'type': 'WFEN'},
    'SFMNet': {'type': 'SFMNet'},
    'DIC': {'type': 'DIC'},
}
# option -> (description, max |output - plain| allowed relative to max |plain|)
OPTIONS = {
    'fp32 eager': ('plain', 0.0),
    'whole-batch blocks': ('inference_chunk: 0, the full-size blocks on the whole batch (MRRNet, SPARNet)', 1e-5),
    'unpaired branches': ('every MRR attention branch its own conv, also the narrow ones (MRRNet)', 1e-5),
    'channels_last': ('torch.channels_last memory format', 1e-4),
    'compile': ('torch.compile, inductor', 1e-3),
    'compile (freezing)': ('torch.compile; inference: inductor weight freezing + max-autotune', 1e-3),
    'bf16 autocast': ('torch.autocast bfloat16', 5e-2),
    'bf16 + channels_last': ('both', 5e-2),
}
DEV_FACES = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), os.pardir, 'shared', 'data', 'celeba_dic_dev')


# options that switch off one of our always-on changes, and the networks that have it
SWITCHES = {
    'whole-batch blocks': lambda network: isinstance(network, FaceSRSkeleton),
    'unpaired branches': lambda network: any(isinstance(m, MultiReceptiveFieldFeatures) for m in network.modules()),
}


def prepare(network_opt, option, checkpoint, device):
    if option == 'whole-batch blocks':
        network_opt = {**network_opt, 'inference_chunk': 0}
    if option == 'unpaired branches':
        network_opt = {**network_opt, 'paired_branches_below': 0}
    network = build_network(network_opt).to(device)
    if checkpoint and network_opt['type'] == 'MRRNet':
        network.load_state_dict(load_checkpoint(checkpoint)['params'])
    if 'channels_last' in option:
        network = network.to(memory_format=torch.channels_last)
    if 'bf16' in option:
        def autocast():
            return torch.autocast(device.type, dtype=torch.bfloat16)
    else:
        autocast = contextlib.nullcontext
    forward = torch.compile(network) if option.startswith('compile') else network
    return network, forward, autocast


def compile_context(option, training):
    """Inductor settings in force while a compiled forward is first called (that is when it compiles)."""
    if option == 'compile (freezing)' and not training:
        import torch._inductor.config as inductor_config
        return inductor_config.patch(freezing=True, max_autotune=True)
    return contextlib.nullcontext()


def timed(function, args, reference=None):
    """(median seconds of ``function``, of ``reference`` timed alternately with it, and the speed-up of
    ``function`` over it); the last two are None without a reference."""
    if reference is None:
        return median_seconds(function, args.runs, args.warmup), None, None
    return paired_seconds(function, reference, args.runs, args.warmup)


def measure(network_opt, option, args, device, reference_lr, authors=None):
    torch.manual_seed(0)
    network, forward, autocast = prepare(network_opt, option, args.checkpoint, device)
    memory_format = torch.channels_last if 'channels_last' in option else torch.contiguous_format
    one = torch.rand(1, 3, 16, 16, device=device).contiguous(memory_format=memory_format)
    batch = torch.rand(args.batch, 3, 16, 16, device=device).contiguous(memory_format=memory_format)
    target = torch.rand(args.batch, 3, 128, 128, device=device)

    def infer(x):
        network.eval()
        with torch.no_grad(), autocast(), compile_context(option, training=False):
            return forward(x)

    latency = median_seconds(lambda: infer(one), args.runs, args.warmup)
    infer_seconds, authors_infer_seconds, infer_vs_authors = timed(lambda: infer(batch), args,
                                                                   authors and authors['infer'])
    output = infer(reference_lr.contiguous(memory_format=memory_format)).float()

    if option == 'compile (freezing)':  # frozen graphs hold the weights as constants: train with a fresh compile
        forward = torch.compile(network)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)

    def train_step():
        network.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = torch.nn.functional.l1_loss(forward(batch).float(), target)
        loss.backward()
        optimizer.step()

    train_seconds, authors_train_seconds, train_vs_authors = timed(train_step, args,
                                                                   authors and authors['train_step'])
    memory = peak_memory_mb(train_step, device)
    return {'latency_ms': latency * 1000, 'infer_ips': args.batch / infer_seconds,
            'train_ips': args.batch / train_seconds,
            'peak_mb': memory, 'output': output.cpu(), 'infer_x_authors': infer_vs_authors,
            'train_x_authors': train_vs_authors, 'authors_infer_seconds': authors_infer_seconds,
            'authors_train_seconds': authors_train_seconds}


def authors_runner(name, folder, args, device, reference_lr):
    """The authors' code, fp32 eager, on the same weights and the same work as ``measure``: their network takes
    their input convention (``authors_code.authors_input``: the LR face PIL-upsampled to 128x128, in [-1, 1] or
    [0, 1], or DIC's LR minus its mean; made outside the timing, as their data pipeline does).

    Returns their ``infer`` (--batch faces) and ``train_step`` (L1 on their SR face) callables, which ``measure``
    times alternately with each of our options, their batch-1 latency and the largest output difference to ours on
    ``reference_lr``.
    """
    torch.manual_seed(0)
    ours = build_network(ARCHS[name]).to(device).eval()
    theirs = authors_network(name, folder).to(device)
    state = theirs.state_dict()  # theirs also holds WFEN's fixed Haar filters and SFMNet's unused layers
    state.update(ours.state_dict())
    theirs.load_state_dict(state, strict=True)
    theirs.eval()

    def prepare_input(lr):
        with torch.no_grad():
            return authors_input(name, lr, getattr(ours, 'upsample', None))

    def their_sr(x):
        return authors_outputs(name, theirs, x)['sr']

    one, batch = prepare_input(torch.rand(1, 3, 16, 16, device=device)), prepare_input(
        torch.rand(args.batch, 3, 16, 16, device=device))
    with torch.no_grad():
        same = (their_sr(prepare_input(reference_lr)) - ours(reference_lr)).abs().max().item()
    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-4)
    target = torch.rand(args.batch, 3, 128, 128, device=device)

    def infer(x=batch):
        theirs.eval()
        with torch.no_grad():
            return their_sr(x)

    def train_step():
        theirs.train()
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.l1_loss(their_sr(batch), target).backward()
        optimizer.step()

    return {'infer': infer, 'train_step': train_step, 'same_function': same,
            'latency_ms': median_seconds(lambda: infer(one), args.runs, args.warmup) * 1000}


def real_faces(limit=40):
    """(LR batch in [0, 1], HR uint8 list) of the team's dev faces, or None when ../shared is absent."""
    if not osp.isdir(DEV_FACES):
        return None
    from PIL import Image
    names = sorted(os.listdir(osp.join(DEV_FACES, 'HR')))[:limit]
    lr = [np.asarray(Image.open(osp.join(DEV_FACES, 'LR', n)).convert('RGB')) for n in names]
    hr = [np.asarray(Image.open(osp.join(DEV_FACES, 'HR', n)).convert('RGB')) for n in names]
    return torch.from_numpy(np.stack(lr).astype(np.float32).transpose(0, 3, 1, 2) / 255.0), hr


def mean_psnr(outputs, hr):
    sr = (outputs.clamp(0, 1).numpy().transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)
    return float(np.mean([calculate_psnr_dic(s, h, channel_order='rgb') for s, h in zip(sr, hr)]))


def benchmark_archs(args, device):
    faces = real_faces(args.psnr_faces)
    reference_lr = faces[0] if faces is not None else torch.rand(8, 3, 16, 16)
    reference_lr = reference_lr.to(device)
    for name in args.archs:
        network_opt = ARCHS[name]
        probe = build_network(network_opt).to(device)
        gmacs = gmacs_per_image(probe, device=device)
        print(f'\n## {name}: {count_parameters(probe) / 1e6:.2f} M params, {gmacs:.2f} GMACs per 16x16 face, '
              f'{device} ({torch.get_num_threads()} threads)\n')
        authors = None
        if name in args.authors_code:
            authors = authors_runner(name, args.authors_code[name], args, device, reference_lr)
            print(f"authors' code ({args.authors_code[name]}), fp32 eager, same weights (their row: timed in "
                  f"pairs with the first option): max |ours - theirs| on real faces {authors['same_function']:.1e}\n")
        print('| option | latency b1 (ms) | infer b8 (img/s) | train b8 (img/s) | GFLOP/s (train) | peak MB (train) '
              '| infer x | train x | max rel. diff | tolerance | PSNR change (dB) | infer x authors '
              '| train x authors |')
        print('|' + '---|' * 13)
        plain = None
        for option in args.options:
            if option in SWITCHES and not SWITCHES[option](probe):
                continue  # this network does not have what the option switches off
            try:
                result = measure(network_opt, option, args, device, reference_lr, authors)
            except Exception as error:  # an option this torch build or device cannot run
                print(f'| {option} | failed: {type(error).__name__}: {str(error)[:80]} |' + ' |' * 11)
                continue
            plain = plain or result
            difference = ((result['output'] - plain['output']).abs().max() / plain['output'].abs().max()).item()
            tolerance = OPTIONS[option][1]
            verdict = 'PASS' if difference <= tolerance else 'FAIL'
            psnr_change = ''
            if faces is not None and option != 'fp32 eager':
                psnr_change = f'{mean_psnr(result["output"], faces[1]) - mean_psnr(plain["output"], faces[1]):+.4f}'
            gflops = result['train_ips'] * gmacs * 2 * 3  # forward + ~2x for backward
            versus = ' | '
            if authors:
                versus = f'{result["infer_x_authors"]:.2f} | {result["train_x_authors"]:.2f}'
            print(f'| {option} | {result["latency_ms"]:.1f} | {result["infer_ips"]:.1f} | {result["train_ips"]:.2f} | '
                  f'{gflops:.1f} | {result["peak_mb"]:.0f} | {result["infer_ips"] / plain["infer_ips"]:.2f} | '
                  f'{result["train_ips"] / plain["train_ips"]:.2f} | {difference:.1e} | {verdict} <= {tolerance:.0e} '
                  f'| {psnr_change} | {versus} |')
            if authors and result is plain:
                print(f"| authors' code, fp32 eager | {authors['latency_ms']:.1f} | "
                      f"{args.batch / result['authors_infer_seconds']:.1f} | "
                      f"{args.batch / result['authors_train_seconds']:.2f} |"
                      + ' |' * 7 + ' 1.00 | 1.00 |')


def benchmark_data(args, device):
    """Images/s the on-the-fly LR dataset feeds with the given worker count vs images/s of an MRRNet step."""
    import time

    from basicsr.data import build_dataloader, build_dataset

    from mrr_plugin.data.face_lmdb import build_face_lmdb
    if not osp.isdir(DEV_FACES):
        print('--data needs the team\'s dev faces at ../shared/data/celeba_dic_dev; skipped.')
        return
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        lmdb_path = osp.join(folder, 'hr.lmdb')
        build_face_lmdb(osp.join(DEV_FACES, 'HR'), lmdb_path, progress=False)
        opt = {'name': 'speed', 'type': 'FaceBicubicDataset', 'dataroot_gt': lmdb_path, 'io_backend': {'type': 'lmdb'},
               'phase': 'train', 'scale': 8, 'num_worker_per_gpu': args.workers, 'batch_size_per_gpu': 8,
               'use_shuffle': True}
        loader = build_dataloader(build_dataset(opt), opt, num_gpu=0, dist=False, sampler=None, seed=0)
        iterator = iter(loader)
        next(iterator)  # start the workers
        start, images = time.perf_counter(), 0
        for _ in range(40):
            images += next(iterator)['gt'].shape[0]
        data_ips = images / (time.perf_counter() - start)
    step = measure(ARCHS['MRRNet'], 'fp32 eager', args, device, torch.rand(8, 3, 16, 16, device=device))
    ratio = data_ips / step['train_ips']
    print(f'\n## Data path ({args.workers} workers): {data_ips:.1f} img/s fed vs {step["train_ips"]:.2f} img/s '
          f'consumed by an MRRNet training step: {ratio:.1f}x ({"PASS" if ratio >= 3 else "FAIL"} >= 3x)')


def benchmark_metrics(args, device):
    """DIC PSNR/SSIM over the dev faces: batched torch vs BasicSR's per-image numpy loop (same numbers)."""
    import time

    from basicsr.metrics import calculate_psnr, calculate_ssim
    faces = real_faces(limit=600)
    if faces is None:
        print('--metrics needs the team\'s dev faces; skipped.')
        return
    lr, hr = faces
    up = (torch.nn.functional.interpolate(lr, size=128, mode='nearest') * 255).round().to(torch.uint8)
    hr_tensor = torch.from_numpy(np.stack(hr)).permute(0, 3, 1, 2)
    start = time.perf_counter()
    psnr, ssim = psnr_ssim_dic_batch(up.to(device), hr_tensor.to(device))
    batched = time.perf_counter() - start
    sr_images = up.permute(0, 2, 3, 1).numpy()
    start = time.perf_counter()
    for s, h in zip(sr_images, hr):
        calculate_psnr_dic(s, h, channel_order='rgb')
        calculate_ssim_dic(s, h, channel_order='rgb')
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for s, h in zip(sr_images, hr):
        calculate_psnr(s[..., ::-1], h[..., ::-1], 8, test_y_channel=True)
        calculate_ssim(s[..., ::-1], h[..., ::-1], 8, test_y_channel=True)
    loop = time.perf_counter() - start
    print(f'\n## Metrics over {len(hr)} faces on {device}: BasicSR per-image loop {loop:.2f} s; DIC per-image (OpenCV) '
          f'{ours:.2f} s = {loop / ours:.2f}x; DIC batched torch {batched:.2f} s = {loop / batched:.2f}x '
          f'(mean PSNR {psnr.mean():.4f} dB, SSIM {ssim.mean():.4f}, identical in both DIC paths)')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--archs', nargs='+', default=list(ARCHS), choices=list(ARCHS))
    parser.add_argument('--options', nargs='+', default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--batch', type=int, default=8, help='faces per throughput call and training step')
    parser.add_argument('--psnr-faces', type=int, default=40,
                        help='real dev faces (../shared) for the outputs compared between options and the PSNR change')
    parser.add_argument('--checkpoint', help='MRRNet weights (params) for the PSNR-change column')
    parser.add_argument('--authors-code', nargs='*', default=[], metavar='ARCH=DIR',
                        help="the authors' checkout for a side-by-side row, e.g. MRRNet=../MRRNet "
                             "SPARNet=../Face-SPARNet (their fp32 eager code, our weights)")
    parser.add_argument('--data', action='store_true', help='measure the data path instead')
    parser.add_argument('--metrics', action='store_true', help='measure the evaluation metrics instead')
    parser.add_argument('--workers', type=int, default=2, help='dataloader workers for --data')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    try:
        args.authors_code = dict(item.split('=', 1) for item in args.authors_code)
    except ValueError:
        parser.error('--authors-code takes ARCH=DIR pairs')
    unknown = sorted(set(args.authors_code) - set(AUTHORS_CLASSES))
    if unknown:
        parser.error(f'--authors-code: no authors\' class known for {unknown}; known: {sorted(AUTHORS_CLASSES)}')
    device = torch.device(args.device)
    if args.data:
        benchmark_data(args, device)
    elif args.metrics:
        benchmark_metrics(args, device)
    else:
        benchmark_archs(args, device)
    return 0


if __name__ == '__main__':
    sys.exit(main())
