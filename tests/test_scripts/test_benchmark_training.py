"""scripts/benchmark_training.py end to end, 4 iterations, with a stand-in for the authors' checkout.

The stand-in has their layout and interfaces (``models/MRRNet.py``, ``models/networks.py:init_weights``,
``data/celeba_dataset.py:CelebADataset`` serving [-1, 1] tensors) and computes their function at a reduced width
(our skeleton without range_norm on pre-upsampled input, which the reference tests prove equal to theirs).
"""
import csv
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, python_env

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'benchmark_training.py')
TINY = {'min_ch': 8, 'max_ch': 16, 'res_depth': 1}

STAND_IN = {
    'models/__init__.py': '',
    'models/MRRNet.py': (
        'import mrr_plugin.archs.mrrnet_arch as ours\n\n\n'
        'class MRRNet(ours.MRRNet):\n'
        '    def __init__(self):\n'
        f'        super().__init__(upscale=1, range_norm=False, **{TINY!r})\n'),
    'models/networks.py': (
        'from torch.nn import init\n\n\n'
        'def init_weights(net, init_type, init_gain):\n'
        '    for m in net.modules():\n'
        '        if hasattr(m, "weight") and "Conv" in type(m).__name__:\n'
        '            init.normal_(m.weight.data, 0.0, init_gain)\n'
        '            if m.bias is not None:\n'
        '                init.constant_(m.bias.data, 0.0)\n'),
    'data/__init__.py': '',
    'data/celeba_dataset.py': (
        'import os\n'
        'import random\n\n'
        'from PIL import Image\n'
        'from torchvision.transforms import functional as tf\n\n\n'
        'class CelebADataset:\n'
        '    def __init__(self, opt):\n'
        '        self.root, self.names = opt.dataroot, sorted(os.listdir(opt.dataroot))\n'
        '        self.lr_size = opt.load_size // opt.scale_factor\n\n'
        '    def __len__(self):\n'
        '        return len(self.names)\n\n'
        '    def __getitem__(self, idx):\n'
        '        hr = Image.open(os.path.join(self.root, self.names[idx])).convert("RGB")\n'
        '        if random.random() < 0.5:\n'
        '            hr = hr.transpose(Image.FLIP_LEFT_RIGHT)\n'
        '        up = hr.resize((self.lr_size,) * 2, Image.BICUBIC).resize(hr.size, Image.BICUBIC)\n'
        '        return {"HR": tf.to_tensor(hr) * 2 - 1, "LR": tf.to_tensor(up) * 2 - 1}\n'),
}


def test_trains_both_codes_side_by_side_and_reports_the_curves(tmp_path, synthetic_faces):
    authors = tmp_path / 'authors'
    for name, text in STAND_IN.items():
        (authors / name).parent.mkdir(parents=True, exist_ok=True)
        (authors / name).write_text(text)
    with open(os.path.join(PROJECT_ROOT, 'options', 'train', 'MRRNet', 'train_MRRNet_x8_CelebA.yml')) as f:
        recipe = yaml.safe_load(f)
    recipe['network_g'].update(TINY)
    (tmp_path / 'recipe.yml').write_text(yaml.safe_dump(recipe))
    out = tmp_path / 'out'
    command = [sys.executable, SCRIPT, '--arch', 'MRRNet', '--authors-code', str(authors), '--faces',
               synthetic_faces, '--held-out', '4', '--recipe', str(tmp_path / 'recipe.yml'), '--iters', '4',
               '--eval-every', '2', '--batch-size', '2', '--workers', '0', '--authors-seeds', '1', '--variants', 'bf16',
               '--out', str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=python_env(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    main_table = result.stdout[result.stdout.index('| iteration'):].split('\n\n')[0]
    rows = [line.split('|')[1:-1] for line in main_table.splitlines() if line.startswith('| ')]
    assert rows[0][0].strip() == 'iteration' and [row[0].strip() for row in rows[1:]] == ['0', '2', '4']
    first = rows[1]
    assert first[3].strip() == '+0.00' and first[1] == first[2]  # same initial weights, same evaluation
    for row in rows[2:]:
        assert float(row[1]) > 0 and float(row[2]) > 0 and float(row[6]) > 0 and float(row[7]) > 0
        assert float(row[1]) != float(first[1]) and float(row[2]) != float(first[2])  # both really trained
    assert "authors' code, seed 0 vs. seed 1" in result.stdout and 'largest |ours - authors|' in result.stdout
    same = next(line for line in result.stdout.splitlines() if line.startswith('Same batches'))
    loss_gap, update_gap, rounding_gap = map(float, re.findall(r'\d\.\de[-+]\d+', same))
    assert loss_gap < 1e-4 and update_gap < 1e-2  # the stand-in computes their function: the same steps
    assert 0 <= rounding_gap < 0.5  # float rounding alone, amplified by training (it grows with the steps)
    assert (out / 'results.md').read_text().startswith('| iteration |')
    assert (out / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with open(out / 'runs' / 'ours_seed0' / 'curve.json') as f:
        ours = json.load(f)
    assert ours['iterations'] == [0, 2, 4] and len(ours['psnr']) == 3
    with open(out / 'runs' / 'ours-bf16_seed0' / 'curve.json') as f:
        bf16 = json.load(f)
    assert bf16['settings']['variant'] == 'bf16' and bf16['psnr'][0] == ours['psnr'][0]  # same start
    assert bf16['psnr'][1:] != ours['psnr'][1:]  # trained in another precision
    quality = result.stdout[result.stdout.index('Time to quality'):]
    runs = [line.split('|')[1].strip() for line in quality.splitlines()[3:] if line.startswith('| ')]
    assert runs == ["authors' code (fp32)", 'ours fp32', 'ours bf16']
    authors_row = next(line for line in quality.splitlines() if line.startswith("| authors' code"))
    assert authors_row.split('|')[3].strip() == '1.00'  # the authors' own time to their own final PSNR

    kept = (out / 'runs' / 'authors_seed0' / 'train.log').stat().st_mtime_ns
    kept_seed1 = (out / 'runs' / 'authors_seed1' / 'train.log').stat().st_mtime_ns
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, env=python_env(tmp_path))
    assert again.returncode == 0 and (out / 'runs' / 'authors_seed0' / 'train.log').stat().st_mtime_ns == kept
    assert [line for line in again.stdout.splitlines() if line.startswith('| ')] == \
        [line for line in result.stdout.splitlines() if line.startswith('| ')]  # the kept curves, not a new run

    seeds = subprocess.run(command + ['--seeds', '2', '--margin', '0.2', '--same-batch-steps', '0'],
                           capture_output=True, text=True, timeout=600, env=python_env(tmp_path))
    assert seeds.returncode == 0, seeds.stdout[-2000:] + seeds.stderr[-3000:]
    assert (out / 'runs' / 'authors_seed1' / 'train.log').stat().st_mtime_ns == kept_seed1  # reused: same seed
    with open(out / 'runs' / 'ours_seed1' / 'curve.json') as f:
        ours_seed1 = json.load(f)
    with open(out / 'runs' / 'authors_seed1' / 'curve.json') as f:
        authors_seed1 = json.load(f)
    assert ours_seed1['psnr'][0] == authors_seed1['psnr'][0] != ours['psnr'][0]  # seed 1's own shared start
    with open(out / 'seeds.csv') as f:
        table = list(csv.DictReader(f))
    assert [row['iteration'] for row in table] == ['0', '2', '4']
    with open(out / 'runs' / 'authors_seed0' / 'curve.json') as f:
        authors_seed0 = json.load(f)
    import numpy as np
    from scipy import stats
    for i, row in enumerate(table):
        theirs = np.array([authors_seed0['psnr'][i], authors_seed1['psnr'][i]])
        mine = np.array([ours['psnr'][i], ours_seed1['psnr'][i]])
        assert float(row['ours_mean']) == pytest.approx(mine.mean()) and float(row['authors_sd']) == pytest.approx(
            theirs.std(ddof=1))
        if i:  # iteration 0: the same two starts on both sides
            low, high = stats.ttest_ind(mine, theirs, equal_var=False).confidence_interval(0.95)
            assert (float(row['low']), float(row['high'])) == pytest.approx((low, high), rel=1e-9)
        assert row['verdict'] in ('equivalent', 'different', 'cannot tell')
    assert 'Across 2 seeds per side' in seeds.stdout and 'Equivalent within ±0.2 dB' in seeds.stdout


def test_bad_arguments_are_one_line_before_any_run(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, '--authors-code', str(tmp_path / 'missing'), '--iters', '5',
                             '--eval-every', '2', '--out', str(tmp_path / 'out')], capture_output=True, text=True)
    assert result.returncode == 2
    assert 'multiple of --eval-every' in result.stderr and 'is not a folder' in result.stderr
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('arch', ['WFEN', 'SFMNet'])
def test_the_authors_own_code_trains_beside_ours(arch, tmp_path, synthetic_faces):
    """With a real checkout of their code (skipped without one): their dataset, loss and initialisation run, the
    same-batch check agrees (the same function and loss: float rounding only)."""
    from tests.helpers.authors_checkout import authors_checkout
    folder = authors_checkout(arch)
    out = tmp_path / 'out'
    command = [sys.executable, SCRIPT, '--arch', arch, '--authors-code', folder, '--faces', synthetic_faces,
               '--held-out', '2', '--iters', '2', '--eval-every', '1', '--batch-size', '2', '--workers', '0',
               '--same-batch-steps', '1', '--compare-from', '0', '--out', str(out),
               '--recipe', os.path.join(PROJECT_ROOT, 'options', 'train', arch, f'train_{arch}_x8_CelebA.yml')]
    result = subprocess.run(command, env=python_env(tmp_path), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    gap = float(re.search(r'losses of the two codes differ by at most ([0-9.e+-]+)', result.stdout).group(1))
    assert gap < 1e-4, result.stdout
    rows = [line for line in (out / 'results.md').read_text().splitlines() if line.startswith('| 2 |')]
    assert rows, (out / 'results.md').read_text()
