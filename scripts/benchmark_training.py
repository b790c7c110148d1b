"""Train the authors' generator and ours side by side: same faces, seed, initial weights and recipe.

    python scripts/benchmark_training.py --arch MRRNet --authors-code ../MRRNet \\
        --faces ../shared/data/celeba_dic_dev --iters 500 --eval-every 100 --out results/benchmark_training/MRRNet

Faces: ``--faces DIR`` (``DIR/HR`` [+ ``DIR/LR``] or a folder of 128x128 faces); the last ``--held-out`` are
held out (their LR from ``DIR/LR``, else PIL bicubic as the DIC protocol), the others train both networks.

- **Theirs**: a subprocess builds the generator from their checkout (github.com/SYLan2019/MRRNet,
  chaofengc/Face-SPARNet; ``scripts/authors_code.py``), loads the shared initial weights (their
  ``init_weights`` under ``--seed``), and trains it as their ``train.py`` does: their ``CelebADataset`` (flip,
  rescale, PIL bicubic, [-1, 1]) in a shuffling ``DataLoader`` with ``drop_last``, ``nn.L1Loss`` on [-1, 1] and
  ``Adam(lr, betas)``.
- **Ours**: ``python -m mrr_plugin.train`` on the recipe (``--recipe``, default the arch's CelebA paper recipe)
  with the training folder, ``--batch-size``, ``--lr``, ``--seed``, ``--iters`` and the same initial weights
  (``path.pretrain_network_g``).

Both save the generator every ``--eval-every`` iterations; afterwards each checkpoint runs in its own
network (theirs on the bicubic-upsampled LR in [-1, 1]) and is scored with the DIC protocol (Y PSNR/SSIM, 8-pixel
border) on the held-out faces. Wall-clock of a checkpoint: from its run's launch (imports included) to the file's
write. ``--authors-seeds`` adds runs of the authors' code from other seeds (their own initialisation and data
order): how far apart two of their seeds are says how much of a gap is noise. A same-batch check
(``--same-batch-steps``) then trains both from the shared weights on identical batches without augmentation
and compares their losses and weight updates: it separates the recipe from the data pipelines' random draws.
``--variants bf16 compile bf16+compile`` adds runs of ours with those training options (``train.precision``,
``train.compile``) from the same faces, seed, recipe and initial weights: the time-to-quality table gives, for each
run, the wall-clock to reach each ``--targets`` PSNR and the PSNR the authors' fp32 code has at its last
iteration, as a ratio to the authors' run, and the PSNR at equal iterations against our fp32 run.
``--seeds N`` trains both sides from N seeds (``--seed`` on; per seed the same initial weights on both sides) and
reports per checkpoint each side's mean and standard deviation, Welch's 95 % interval of the difference of the
means and the equivalence verdict of two one-sided tests for ``--margin`` dB (``seeds.csv``); kept runs of any
seed are reused.
Prints Markdown tables (also ``results.md`` / ``results.csv`` in ``--out``) and writes ``curves.png`` (PSNR vs.
iteration and vs. wall-clock). A finished run is kept (``<run>/curve.json``) and reused by a later call with the
same settings; ``--rerun`` trains every run again (timings compared in one table must come from one call).
"""
import argparse
import csv
import json
import os
import os.path as osp
import subprocess
import sys
import time

import mrr_plugin  # noqa: F401  (patches basicsr: must come before any basicsr import)

# isort: split
import numpy as np
import torch
import yaml
from basicsr.archs import build_network
from basicsr.utils.options import ordered_yaml
from PIL import Image
from tqdm import tqdm

from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from mrr_plugin.archs.reference_checkpoint import drop_authors_constants
from mrr_plugin.demo import face_folders
from mrr_plugin.metrics.dic_psnr_ssim_metric import calculate_psnr_dic, calculate_ssim_dic
from mrr_plugin.metrics.uncertainty import difference_of_means, equivalence
from mrr_plugin.utils import project_root
from mrr_plugin.utils.checkpoint_file import load_checkpoint
from mrr_plugin.utils.option_file import load_option_file
from mrr_plugin.utils.visual import write_png

from authors_code import TRAINABLE, authors_input, authors_loss, authors_network, authors_outputs, authors_training_data

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')


def split_faces(faces, held_out):
    """(HR folder, LR folder or None, training names, held-out names) of ``faces``."""
    hr_folder, lr_folder = face_folders(faces)
    names = sorted(n for n in os.listdir(hr_folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    if len(names) <= held_out:
        raise ValueError(f'--faces {faces} has {len(names)} faces; need more than --held-out {held_out}.')
    return hr_folder, lr_folder, names[:-held_out], names[-held_out:]


def link_training_faces(hr_folder, names, folder):
    """A folder of links to the training faces: both codes read it (theirs lists a folder)."""
    os.makedirs(folder, exist_ok=True)
    for name in names:
        link = osp.join(folder, name)
        if not osp.lexists(link):
            os.symlink(osp.abspath(osp.join(hr_folder, name)), link)
    return folder


def write_bicubic_lr(hr_folder, names, folder, scale=8):
    """PIL-bicubic LR faces of the training faces (what SFMNet's ``Data`` reads from ``LR_bicubic``)."""
    os.makedirs(folder, exist_ok=True)
    for name in names:
        path = osp.join(folder, osp.splitext(name)[0] + '.png')
        if not osp.isfile(path):
            face = Image.open(osp.join(hr_folder, name)).convert('RGB')
            write_png(path, np.asarray(face.resize((face.width // scale, face.height // scale), Image.BICUBIC)))
    return folder


def face_pairs(hr_folder, lr_folder, names, scale=8):
    """(LR batch in [0, 1], list of HR uint8 RGB arrays); LR from ``lr_folder`` or PIL bicubic of the HR."""
    lr, hr = [], []
    for name in names:
        face = Image.open(osp.join(hr_folder, name)).convert('RGB')
        hr.append(np.asarray(face))
        if lr_folder:
            small = Image.open(osp.join(lr_folder, name)).convert('RGB')
        else:
            small = face.resize((face.width // scale, face.height // scale), Image.BICUBIC)
        lr.append(np.asarray(small))
    return torch.from_numpy(np.stack(lr).transpose(0, 3, 1, 2).astype(np.float32) / 255), hr


def bicubic_up(lr, scale=8):
    """PIL's 8-bit bicubic x``scale`` upsampling of an LR batch in [0, 1] (what the authors' data pipeline feeds)."""
    return pil_bicubic_resize(lr, (lr.shape[-2] * scale, lr.shape[-1] * scale), quantize=True)


def dic_scores(sr, hr):
    """Mean DIC PSNR and SSIM of an SR batch in [0, 1] against HR uint8 arrays."""
    images = (sr.clamp(0, 1).numpy().transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)
    psnr = [calculate_psnr_dic(s, h, channel_order='rgb') for s, h in zip(images, hr)]
    ssim = [calculate_ssim_dic(s, h, channel_order='rgb') for s, h in zip(images, hr)]
    return float(np.mean(psnr)), float(np.mean(ssim))


# ----------------------------------------------------------------------------------------------- the two runs
def write_initial_weights(args, seed, path):
    """The authors' initialisation of their generator under ``seed``, as a BasicSR checkpoint for both sides:
    ``params`` for ours (without what the authors store but never use: WFEN's fixed Haar filters, SFMNet's uncalled
    layers) and ``authors`` for theirs."""
    if not osp.isfile(path):
        torch.manual_seed(seed)
        state = authors_network(args.arch, args.authors_code, init=True).state_dict()
        torch.save({'params': drop_authors_constants(args.arch, state), 'authors': state}, path + '.tmp')
        os.replace(path + '.tmp', path)
    return path


def authors_initial_state(path):
    """The authors' side of :func:`write_initial_weights`' file (older files hold ``params`` only)."""
    state = load_checkpoint(path)
    return state.get('authors', state['params'])


def train_authors(args):
    """(subprocess) Their generator, dataset, loss and optimizer, as their train.py; checkpoints every
    ``--eval-every`` iterations into ``--run-dir``."""
    import random

    from torch.utils.data import DataLoader
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    net = authors_network(args.arch, args.authors_code)
    net.load_state_dict(authors_initial_state(args.init))
    dataset, drop_last, batch_loss = authors_training_data(args.arch, args.authors_code, args.train_folder)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                        drop_last=drop_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, betas=tuple(args.betas))
    iteration = 0
    with tqdm(total=args.iters, desc=f"authors' {args.arch}, seed {args.seed}", unit='it') as bar:
        while iteration < args.iters:
            for data in loader:
                net.train()
                optimizer.zero_grad()
                loss = batch_loss(net, data)
                loss.backward()
                optimizer.step()
                iteration += 1
                bar.update()
                bar.set_postfix(loss=f'{loss.item():.4f}')
                if iteration % args.eval_every == 0:
                    path = osp.join(args.run_dir, f'net_{iteration}.pth')
                    torch.save(net.state_dict(), path + '.tmp')
                    os.replace(path + '.tmp', path)
                if iteration == args.iters:
                    break


VARIANTS = {'fp32': {}, 'bf16': {'precision': 'bf16'}, 'compile': {'compile': True},
            'bf16+compile': {'precision': 'bf16', 'compile': True}}


def our_options(args, seed, init, train_folder, name, variant='fp32'):
    """Our recipe with the benchmark's data, budget, seed and initial weights, and the ``variant``'s training
    options (nothing else changed)."""
    opt = load_option_file(args.recipe)
    opt['train'].update(VARIANTS[variant])
    opt.update(name=name, num_gpu=0, manual_seed=seed)
    train_set = opt['datasets']['train']
    train_set.update(dataroot_gt=osp.abspath(train_folder), io_backend={'type': 'disk'},
                     batch_size_per_gpu=args.batch_size, num_worker_per_gpu=args.workers)
    opt['datasets'] = {'train': train_set}
    opt.pop('val', None)  # scored afterwards from the checkpoints, like theirs
    opt['path'].update(pretrain_network_g=osp.abspath(init), strict_load_g=True, resume_state=None)
    opt['train']['total_iter'] = args.iters
    if args.lr is not None:
        opt['train']['optim_g']['lr'] = args.lr
    opt['logger'].update(print_freq=args.eval_every, save_checkpoint_freq=args.eval_every, use_tb_logger=False)
    return opt


def recipe_adam(args):
    """(lr, betas) of the recipe after ``--lr``: the authors' run uses the same."""
    optim = load_option_file(args.recipe)['train']['optim_g']
    if optim['type'] != 'Adam':
        raise ValueError(f"--recipe {args.recipe}: the authors' side uses Adam, the recipe {optim['type']}.")
    return float(args.lr if args.lr is not None else optim['lr']), [float(b) for b in optim.get('betas', (0.9, 0.999))]


def run_label(side, seed, variant='fp32'):
    return f'{side}_seed{seed}' if variant == 'fp32' else f'{side}-{variant}_seed{seed}'


def run_side(args, side, seed, work, variant='fp32'):
    """Train one run (``side``: 'authors' or 'ours' with ``variant``); returns its checkpoints and their times."""
    label = run_label(side, seed, variant)
    run_dir = osp.join(work, label)
    os.makedirs(run_dir, exist_ok=True)
    init = write_initial_weights(args, seed, osp.join(work, f'init_seed{seed}.pth'))
    lr, betas = recipe_adam(args)
    env = dict(os.environ, MRR_PLUGIN_ROOT=osp.abspath(run_dir), PYTHONUNBUFFERED='1')
    if side == 'authors':
        command = [sys.executable, osp.abspath(__file__), '--train-authors', '--arch', args.arch, '--authors-code',
                   args.authors_code, '--seed', str(seed), '--init', init, '--train-folder', args.train_folder,
                   '--run-dir', run_dir, '--iters', str(args.iters), '--eval-every', str(args.eval_every),
                   '--batch-size', str(args.batch_size), '--workers', str(args.workers), '--lr', str(lr),
                   '--betas', *map(str, betas)]
        checkpoints = osp.join(run_dir, 'net_{}.pth')
    else:
        name = f'benchmark_{args.arch}_{label}'
        option_file = osp.join(run_dir, 'options.yml')
        with open(option_file, 'w') as f:
            yaml.dump(our_options(args, seed, init, args.train_folder, name, variant), f, Dumper=ordered_yaml()[1])
        command = [sys.executable, '-m', 'mrr_plugin.train', '-opt', option_file]
        checkpoints = osp.join(run_dir, 'experiments', name, 'models', 'net_g_{}.pth')
    started = time.time()
    with open(osp.join(run_dir, 'train.log'), 'w') as log:
        result = subprocess.run(command, env=env, cwd=project_root(), stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f'the {side} run (seed {seed}) failed; see {osp.join(run_dir, "train.log")}')
    steps = range(args.eval_every, args.iters + 1, args.eval_every)
    seconds = [0.0] + [os.stat(checkpoints.format(k)).st_mtime - started for k in steps]
    return label, [init] + [checkpoints.format(k) for k in steps], seconds


def score_checkpoints(args, side, paths, lr, hr):
    """Held-out DIC (PSNR, SSIM) of each checkpoint, run by its own code."""
    if side == 'authors':
        net = authors_network(args.arch, args.authors_code)

        def forward(x):
            return authors_outputs(args.arch, net, authors_input(args.arch, x, bicubic_up))['sr']
    else:
        net = build_network(load_option_file(args.recipe)['network_g'])
        forward = net
    scores = []
    for path in paths:
        state = load_checkpoint(path)
        if side == 'authors':  # the shared initial weights (their full state under 'authors') or their checkpoints
            net.load_state_dict(state.get('authors', state.get('params', state)))
        else:
            net.load_state_dict(state['params'] if 'params' in state else state)
        net.eval()
        with torch.no_grad():
            scores.append(dic_scores(torch.cat([forward(part) for part in lr.split(8)]), hr))
    return scores


def curve(args, side, seed, work, lr, hr, variant='fp32'):
    """{'label', 'iterations', 'seconds', 'psnr', 'ssim'} of one run (trained now or kept from before)."""
    keys = ('arch', 'iters', 'eval_every', 'batch_size', 'lr', 'workers', 'held_out', 'recipe')
    settings = {key: getattr(args, key) for key in keys}
    settings.update(faces=osp.abspath(args.faces), variant=variant)
    kept = osp.join(work, run_label(side, seed, variant), 'curve.json')
    if osp.isfile(kept) and not args.rerun:
        with open(kept) as f:
            record = json.load(f)
        if record['settings'] == settings:
            return record
    label, paths, seconds = run_side(args, side, seed, work, variant)
    scores = score_checkpoints(args, side, paths, lr, hr)
    record = {'label': label, 'settings': settings, 'iterations': [0, *range(args.eval_every, args.iters + 1,
                                                                             args.eval_every)],
              'seconds': seconds, 'psnr': [s[0] for s in scores], 'ssim': [s[1] for s in scores]}
    with open(kept + '.tmp', 'w') as f:
        json.dump(record, f, indent=1)
    os.replace(kept + '.tmp', kept)
    return record


def same_batch_check(args, init, lr_faces, hr_faces):
    """Both training steps on identical batches (no augmentation, no shuffling): the per-step losses and how far
    the two weight updates differ after ``--same-batch-steps`` steps, next to the authors' code against itself
    with one thread (other float rounding only). Isolates the recipe (function, range, loss, optimizer) from the
    data pipelines' random draws."""
    from basicsr.models import build_model
    lr, betas = recipe_adam(args)
    batches = [[(step * args.batch_size + i) % len(lr_faces) for i in range(args.batch_size)]
               for step in range(args.same_batch_steps)]

    def theirs(threads):
        """(losses, weights) of their generator trained on ``batches`` with ``threads`` threads."""
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            net = authors_network(args.arch, args.authors_code)
            net.load_state_dict(authors_initial_state(init))
            optimizer = torch.optim.Adam(net.parameters(), lr=lr, betas=tuple(betas))
            losses = []
            for index in batches:
                net.train()
                optimizer.zero_grad()
                loss = authors_loss(args.arch, net, lr_faces[index], hr_faces[index], bicubic_up)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses, net.state_dict()
        finally:
            torch.set_num_threads(previous)

    opt = load_option_file(args.recipe)
    opt.update(is_train=True, dist=False, rank=0, world_size=1, num_gpu=0)
    opt['path'] = {'pretrain_network_g': init, 'strict_load_g': True, 'param_key_g': 'params'}
    opt['train']['optim_g']['lr'] = lr
    ours = build_model(opt)
    our_losses = []
    for step, index in enumerate(batches):
        ours.feed_data({'lq': lr_faces[index], 'gt': hr_faces[index]})
        ours.optimize_parameters(step + 1)
        our_losses.append(sum(v for k, v in ours.get_current_log().items() if k.startswith('l_')))  # every term
    mine = ours.get_bare_model(ours.net_g).state_dict()
    their_losses, reference = theirs(torch.get_num_threads())
    _, one_thread = theirs(1)
    start = load_checkpoint(init)['params']  # the weights both hold
    keys = [k for k in start if start[k].is_floating_point()]
    moved = sum((reference[k] - start[k]).abs().sum().item() for k in keys)

    def apart(weights):
        return sum((weights[k] - reference[k]).abs().sum().item() for k in keys) / moved

    loss_gap = max(abs(a - b) / abs(b) for a, b in zip(our_losses, their_losses))
    return (f'Same batches ({args.same_batch_steps} steps of {args.batch_size} training faces, no augmentation): '
            f'the losses of the two codes differ by at most {loss_gap:.1e} (relative) and their weight updates by '
            f'{apart(mine):.1e} of the update (L1); the authors\' code against itself on 1 instead of '
            f'{torch.get_num_threads()} threads (float rounding only): {apart(one_thread):.1e}.')


# ---------------------------------------------------------------------------------------------------- report
def report(args, authors, ours, others, bicubic, same_batches=None, variants=(), seed_runs=None):
    """Markdown table, CSV and the summary lines (with ``seed_runs``, ``(authors' runs, our runs)`` of several
    seeds, also the multi-seed table and ``seeds.csv``); returns the largest |ours - authors| from
    ``--compare-from`` on."""
    header = ['iteration', "authors' code (dB)", 'ours (dB)', 'ours - authors (dB)', "authors' SSIM", 'ours SSIM',
              "authors' time (s)", 'ours time (s)'] + [f"authors' code, seed {r['label'].split('seed')[1]} (dB)"
                                                       for r in others]
    rows = []
    for i, iteration in enumerate(authors['iterations']):
        rows.append([iteration, f"{authors['psnr'][i]:.2f}", f"{ours['psnr'][i]:.2f}",
                     f"{ours['psnr'][i] - authors['psnr'][i]:+.2f}", f"{authors['ssim'][i]:.4f}",
                     f"{ours['ssim'][i]:.4f}", f"{authors['seconds'][i]:.0f}", f"{ours['seconds'][i]:.0f}"]
                    + [f"{r['psnr'][i]:.2f}" for r in others])
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(map(str, row)) + ' |' for row in rows]
    compared = [i for i, k in enumerate(authors['iterations']) if k >= args.compare_from] or [len(rows) - 1]
    gap = max(abs(ours['psnr'][i] - authors['psnr'][i]) for i in compared)
    lines += ['', f'{args.arch}, {args.held_out} held-out faces, DIC protocol; bicubic {bicubic[0]:.2f} dB / '
              f'{bicubic[1]:.4f}; batch {args.batch_size}, {args.iters} iterations, seed {args.seed}.',
              f"largest |ours - authors| from iteration {args.compare_from} on: {gap:.2f} dB "
              f"({'within' if gap <= args.target else 'NOT within'} {args.target} dB)"]
    for other in others:
        spread = max(abs(other['psnr'][i] - authors['psnr'][i]) for i in compared)
        lines.append(f"authors' code, seed {args.seed} vs. seed {other['label'].split('seed')[1]}: largest "
                     f"difference {spread:.2f} dB from iteration {args.compare_from} on")
    if same_batches:
        lines.append(same_batches)
    if variants:
        lines += time_to_quality(args, authors, ours, variants)
    if seed_runs:
        lines += across_seeds(args, *seed_runs)
    text = '\n'.join(lines) + '\n'
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.out, 'results.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([header] + rows)
    print(text)
    return gap


def across_seeds(args, authors_runs, our_runs):
    """Markdown lines (and ``seeds.csv``): per checkpoint each side's mean and standard deviation over the seeds,
    Welch's 95 % interval of ours - authors, and the TOST verdict for ``--margin``
    (:func:`~mrr_plugin.metrics.uncertainty.equivalence`)."""
    header = ['iteration', "authors' mean ± sd (dB)", 'ours mean ± sd (dB)', 'ours - authors (dB) [95 % CI]',
              'TOST p', f'verdict (±{args.margin} dB)']
    lines = ['', f'Across {len(authors_runs)} seeds per side (seeds {args.seed}-{args.seed + len(authors_runs) - 1}, '
             'the same initial weights on both sides per seed):', '', '| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    table, verdicts = [], {}
    for i, iteration in enumerate(authors_runs[0]['iterations']):
        theirs = np.array([run['psnr'][i] for run in authors_runs])
        mine = np.array([run['psnr'][i] for run in our_runs])
        interval = difference_of_means(mine, theirs)
        p, verdict = equivalence(mine, theirs, args.margin)
        if iteration > 0:
            verdicts.setdefault(verdict, []).append(str(iteration))
        table.append([iteration, theirs.mean(), theirs.std(ddof=1), mine.mean(), mine.std(ddof=1), interval.value,
                      interval.low, interval.high, p, verdict])
        lines.append(f'| {iteration} | {theirs.mean():.2f} ± {theirs.std(ddof=1):.2f} | {mine.mean():.2f} ± '
                     f'{mine.std(ddof=1):.2f} | {interval.value:+.2f} [{interval.low:+.2f}, {interval.high:+.2f}] | '
                     f'{p:.3f} | {verdict} |')
    with open(osp.join(args.out, 'seeds.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([['iteration', 'authors_mean', 'authors_sd', 'ours_mean', 'ours_sd', 'difference',
                                  'low', 'high', 'tost_p', 'verdict'], *table])
    lines += ['', f'Equivalent within ±{args.margin} dB (two one-sided Welch tests, 5 %) at iterations: '
              f'{", ".join(verdicts.get("equivalent", [])) or "none"}; different by more than the margin at: '
              f'{", ".join(verdicts.get("different", [])) or "none"}; the seeds cannot tell at: '
              f'{", ".join(verdicts.get("cannot tell", [])) or "none"}.']
    return lines


def reached_at(run, target):
    """(iteration, seconds) of the first checkpoint of ``run`` at or above ``target`` dB, or None."""
    for iteration, seconds, psnr in zip(run['iterations'], run['seconds'], run['psnr']):
        if iteration > 0 and psnr >= target:
            return iteration, seconds
    return None


def time_to_quality(args, authors, ours, variants):
    """Markdown lines: per run, the wall-clock to each target PSNR (ratio to the authors' run) and the PSNR at the
    last iteration (difference to our fp32 run)."""
    targets = [*args.targets, authors['psnr'][-1]]  # and always the authors' PSNR at their last iteration
    header = ['run', *[f'time to {t:.2f} dB (s)' for t in targets], *[f'x authors ({t:.2f} dB)' for t in targets],
              f"PSNR at {authors['iterations'][-1]} it. (dB)", 'vs. ours fp32 (dB)', 's / iteration']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for name, run in [("authors' code (fp32)", authors), ('ours fp32', ours)] + [
            (f'ours {variant}', run) for variant, run in variants]:
        reached = [reached_at(run, t) for t in targets]
        theirs = [reached_at(authors, t) for t in targets]
        times = [f'{r[1]:.0f} (it. {r[0]})' if r else 'not reached' for r in reached]
        ratios = [f'{r[1] / a[1]:.2f}' if r and a else '-' for r, a in zip(reached, theirs)]
        per_iteration = (run['seconds'][-1] - run['seconds'][1]) / (run['iterations'][-1] - run['iterations'][1])
        lines.append('| ' + ' | '.join([name, *times, *ratios, f"{run['psnr'][-1]:.2f}",
                                        f"{run['psnr'][-1] - ours['psnr'][-1]:+.2f}", f'{per_iteration:.2f}']) + ' |')
    return ['', f'Time to quality (wall-clock from launch, imports included; {args.held_out} held-out faces):', '',
            *lines]


def plot(args, runs, bicubic):
    """curves.png: held-out PSNR vs. iteration and vs. wall-clock, one line per run, bicubic dashed."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    for run in runs:
        side, seed = run['label'].split('_seed')
        name = side.replace('authors', "authors' code").replace('-', ' ') + f', seed {seed}'
        axes[0].plot(run['iterations'], run['psnr'], marker='o', label=name)
        axes[1].plot(np.array(run['seconds']) / 60, run['psnr'], marker='o', label=name)
    trained = [p for run in runs for k, p in zip(run['iterations'], run['psnr']) if k > 0]
    bottom = min(trained + [bicubic[0]]) - 0.5  # the untrained start (iteration 0) is in the table, below the view
    for axis, xlabel in zip(axes, ('iteration', 'wall-clock (min, this CPU)')):
        axis.axhline(bicubic[0], color='grey', linestyle='--', label='bicubic')
        axis.set_ylim(bottom=bottom)
        axis.set_xlabel(xlabel)
        axis.set_ylabel('held-out PSNR (dB, DIC)')
        axis.grid(alpha=0.3)
    axes[0].legend(loc='lower right', fontsize=8)
    figure.suptitle(f"{args.arch}: authors' code vs. ours (batch {args.batch_size}, {args.held_out} held-out faces)")
    figure.tight_layout()
    figure.canvas.draw()
    write_png(osp.join(args.out, 'curves.png'), np.asarray(figure.canvas.buffer_rgba())[..., :3])
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', choices=TRAINABLE, default='MRRNet')
    parser.add_argument('--authors-code', required=True, help="a checkout of the authors' code for --arch")
    parser.add_argument('--faces', default=osp.join(project_root(), '..', 'shared', 'data', 'celeba_dic_dev'),
                        help='DIR/HR [+ DIR/LR] or a folder of 128x128 faces (default: ../shared dev faces)')
    parser.add_argument('--held-out', type=int, default=40)
    parser.add_argument('--recipe', help='our option file (default options/train/<arch>/train_<arch>_x8_CelebA.yml)')
    parser.add_argument('--iters', type=int, default=500)
    parser.add_argument('--eval-every', type=int, default=100)
    parser.add_argument('--batch-size', type=int, default=12)
    parser.add_argument('--lr', type=float, help="Adam's learning rate for both (default: the recipe's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--authors-seeds', type=int, nargs='*', default=[],
                        help="further runs of the authors' code from these seeds (seed-to-seed spread)")
    parser.add_argument('--seeds', type=int, default=1,
                        help='runs per side from seeds --seed, --seed + 1, ... (the same seeds, so the same initial '
                        'weights, on both sides): per checkpoint the mean, spread, interval of the difference and an '
                        'equivalence verdict')
    parser.add_argument('--margin', type=float, default=0.2, help='equivalence margin in dB of the multi-seed verdict')
    parser.add_argument('--workers', type=int, default=2, help='data loader workers of both runs')
    parser.add_argument('--same-batch-steps', type=int, default=10,
                        help='steps of the identical-batch check of the two recipes (0: skip it)')
    parser.add_argument('--compare-from', type=int, default=200, help='iteration from which the gap is judged')
    parser.add_argument('--target', type=float, default=0.2, help='largest |ours - authors| in dB (summary line)')
    parser.add_argument('--variants', nargs='*', default=[], choices=[v for v in VARIANTS if v != 'fp32'],
                        help='further runs of ours with these training options (time-to-quality table)')
    parser.add_argument('--targets', type=float, nargs='*', default=[],
                        help="PSNR targets (dB) of the time-to-quality table besides the authors' last PSNR")
    parser.add_argument('--rerun', action='store_true', help='train every run again instead of reusing kept ones')
    parser.add_argument('--out', default=osp.join(project_root(), 'results', 'benchmark_training'))
    # the authors' run (the script calls itself in a subprocess)
    parser.add_argument('--train-authors', action='store_true', help=argparse.SUPPRESS)
    for hidden in ('--init', '--train-folder', '--run-dir'):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument('--betas', type=float, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train_authors:
        train_authors(args)
        return 0
    args.recipe = args.recipe or osp.join(project_root(), 'options', 'train', args.arch,
                                          f'train_{args.arch}_x8_CelebA.yml')
    problems = [f'--{name} must be positive' for name in ('iters', 'eval_every', 'batch_size', 'held_out', 'seeds',
                                                          'margin')
                if getattr(args, name) <= 0]
    if not problems and args.iters % args.eval_every:
        problems.append('--iters must be a multiple of --eval-every')
    for name, folder in (('authors-code', args.authors_code), ('faces', args.faces)):
        if not osp.isdir(folder):
            problems.append(f'--{name} {folder} is not a folder')
    if not osp.isfile(args.recipe):
        problems.append(f'--recipe {args.recipe} does not exist')
    if problems:
        parser.error('; '.join(problems))
    hr_folder, lr_folder, train_names, test_names = split_faces(args.faces, args.held_out)
    os.makedirs(args.out, exist_ok=True)
    work = osp.join(args.out, 'runs')
    args.train_folder = link_training_faces(hr_folder, train_names, osp.join(work, 'train', 'HR'))
    if args.arch == 'SFMNet':  # their dataset reads pre-made LR faces beside the HR folder (PIL bicubic)
        write_bicubic_lr(args.train_folder, train_names, osp.join(work, 'train', 'LR_bicubic'))
    lr, hr = face_pairs(hr_folder, lr_folder, test_names)
    bicubic = dic_scores(bicubic_up(lr), hr)
    print(f'{len(train_names)} training faces, {len(test_names)} held out; bicubic {bicubic[0]:.2f} dB', flush=True)
    authors = curve(args, 'authors', args.seed, work, lr, hr)
    ours = curve(args, 'ours', args.seed, work, lr, hr)
    seeds = range(args.seed + 1, args.seed + args.seeds)
    seed_runs = ([authors, *(curve(args, 'authors', seed, work, lr, hr) for seed in seeds)],
                 [ours, *(curve(args, 'ours', seed, work, lr, hr) for seed in seeds)])
    others = [curve(args, 'authors', seed, work, lr, hr) for seed in args.authors_seeds
              if seed != args.seed and seed not in seeds]
    variants = [(variant, curve(args, 'ours', args.seed, work, lr, hr, variant)) for variant in args.variants]
    same_batches = None
    if args.same_batch_steps > 0:
        train_lr, train_hr = face_pairs(hr_folder, None, train_names[:args.same_batch_steps * args.batch_size])
        hr_tensor = torch.from_numpy(np.stack(train_hr).transpose(0, 3, 1, 2).astype(np.float32) / 255)
        same_batches = same_batch_check(args, osp.join(work, f'init_seed{args.seed}.pth'), train_lr, hr_tensor)
    report(args, authors, ours, others, bicubic, same_batches, variants, seed_runs if args.seeds > 1 else None)
    plot(args, [*seed_runs[0], *seed_runs[1], *others, *(run for _, run in variants)], bicubic)
    return 0


if __name__ == '__main__':
    sys.exit(main())
