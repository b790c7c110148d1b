import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'benchmark_speed.py')


def test_prints_ratios_and_tolerance_checks():
    result = subprocess.run([sys.executable, SCRIPT, '--archs', 'SRResNet-x8', '--options', 'fp32 eager',
                             'channels_last', 'bf16 autocast', 'whole-batch blocks', '--runs', '1', '--warmup', '0',
                             '--batch', '2', '--psnr-faces', '4'],  # bf16 is emulated on CPUs without bf16
                            # instructions: seconds a face
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')]
    assert rows[0].startswith('| option |') and len(rows) == 4  # SRResNet has no full-size blocks to switch
    plain, channels_last, bf16 = (row.split('|') for row in rows[1:])
    assert plain[7].strip() == '1.00' and plain[8].strip() == '1.00'  # ratios to itself
    assert 'PASS' in channels_last[10] and ('PASS' in bf16[10] or 'FAIL' in bf16[10])
    assert float(bf16[7]) > 0 and float(bf16[3]) > 0


def test_side_by_side_with_an_authors_checkout(tmp_path):
    """--authors-code imports the authors' class from their checkout; a stand-in with their function (our skeleton
    on pre-upsampled [-1, 1] input, which the reference tests prove equal to theirs) checks the plumbing."""
    models = tmp_path / 'authors' / 'models'
    models.mkdir(parents=True)
    (models / '__init__.py').write_text('')
    (models / 'MRRNet.py').write_text(
        'import mrr_plugin.archs.mrrnet_arch as ours\n\n\n'
        'class MRRNet(ours.MRRNet):\n    def __init__(self):\n        super().__init__(upscale=1, range_norm=False)\n')
    result = subprocess.run([sys.executable, SCRIPT, '--archs', 'MRRNet', '--options', 'fp32 eager',
                             'unpaired branches', '--runs', '1', '--warmup', '0', '--batch', '2', '--psnr-faces', '4',
                             '--authors-code', f'MRRNet={tmp_path / "authors"}'],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("authors' code"))
    assert float(line.rsplit(' ', 1)[1]) < 1e-5  # the same function on real or random faces
    plain = next(line for line in result.stdout.splitlines() if line.startswith('| fp32 eager')).split('|')
    assert float(plain[12]) > 0 and float(plain[13]) > 0
    theirs = next(line for line in result.stdout.splitlines() if line.startswith("| authors' code")).split('|')
    assert float(theirs[3]) > 0 and float(theirs[4]) > 0  # their img/s from the same pairs
    assert len(theirs) == len(plain)
    unpaired = next(line for line in result.stdout.splitlines() if line.startswith('| unpaired branches')).split('|')
    assert 'PASS' in unpaired[10] and float(unpaired[6]) > 0  # same function; peak MB of a training step
    bad = subprocess.run([sys.executable, SCRIPT, '--authors-code', 'EDSR=x'], capture_output=True, text=True)
    assert bad.returncode == 2 and 'no authors' in bad.stderr
