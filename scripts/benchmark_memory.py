"""Peak memory and time of a SPARNetHD generator training step without and with gradient checkpointing.

    python scripts/benchmark_memory.py                       # the paper's 512x512 SPARNetHD (85.8 M parameters)
    python scripts/benchmark_memory.py --size 128 --max-ch 64 --runs 1   # a quick look

One step = forward + L1 backward of G at ``--batch`` (default 1) on ``--size`` inputs. Peak memory is the most the
step allocates on top of what it starts with: the CUDA allocator peak on GPUs, the peak of live tensor bytes from
the profiler's allocation events on CPU. Gradients of the
checkpointing modes ('body': the 9 body blocks; 'all': every residual block) are compared with the plain run
(they must be identical). The machine is noisy: read the ratios, measured in one run.
"""
import argparse
import sys

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)

# isort: split
import torch
from basicsr.archs import build_network

from mrr_plugin.evaluation.profiling import count_parameters, median_seconds, peak_memory_mb

MODES = ('none', 'body', 'all')


def sparnethd_options(size, max_ch, checkpoint_blocks):
    return {'type': 'SPARNet', 'upscale': 1, 'in_size': size, 'min_ch': 32, 'max_ch': max_ch,
            'min_feat_size': size // 16, 'res_depth': 10, 'norm_type': 'in', 'spectral_norm': True,
            'checkpoint_blocks': checkpoint_blocks}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', type=int, default=512, help='input/output size (default 512)')
    parser.add_argument('--max-ch', type=int, default=512, help='width cap (512 = the paper)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)

    net = build_network(sparnethd_options(args.size, args.max_ch, 'none')).to(device).train()
    initial_state = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(args.batch, 3, args.size, args.size, device=device)
    target = torch.rand_like(x)

    def step():
        net.zero_grad(set_to_none=True)
        torch.nn.functional.l1_loss(net(x), target).backward()

    rows, gradients, gradients_equal = [], {}, True
    for mode in MODES:
        net.checkpoint_blocks = mode
        net.load_state_dict(initial_state)  # same spectral-norm state for every mode's first step
        step()
        gradients[mode] = [p.grad.clone() for p in net.parameters()]
        if mode != 'none':
            gradients_equal &= all(torch.equal(a, b) for a, b in zip(gradients['none'], gradients[mode]))
        memory = peak_memory_mb(step, device)
        seconds = median_seconds(step, runs=args.runs, warmup=0)
        rows.append((mode, memory, seconds))

    print(f'SPARNetHD generator, {count_parameters(net) / 1e6:.2f} M parameters, batch {args.batch} x '
          f'{args.size}x{args.size}, device {device} ({torch.get_num_threads()} threads)')
    print('| checkpoint_blocks | peak memory (MB) | step time (s) | memory ratio | time ratio |')
    print('|---|---|---|---|---|')
    for name, memory, seconds in rows:
        print(f'| {name} | {memory:.0f} | {seconds:.2f} | {memory / rows[0][1]:.2f} | {seconds / rows[0][2]:.2f} |')
    print(f'gradients identical: {"PASS" if gradients_equal else "FAIL"}')
    return 0 if gradients_equal else 1


if __name__ == '__main__':
    sys.exit(main())
