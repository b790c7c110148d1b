import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'benchmark_speed.py')


def test_prints_ratios_and_tolerance_checks():
    result = subprocess.run([sys.executable, SCRIPT, '--archs', 'SRResNet-x8', '--options', 'fp32 eager',
                             'channels_last', 'bf16 autocast', '--runs', '1', '--warmup', '0'],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')]
    assert rows[0].startswith('| option |') and len(rows) == 4
    plain, channels_last, bf16 = (row.split('|') for row in rows[1:])
    assert plain[7].strip() == '1.00' and plain[8].strip() == '1.00'  # ratios to itself
    assert 'PASS' in channels_last[10] and ('PASS' in bf16[10] or 'FAIL' in bf16[10])
    assert float(bf16[7]) > 0 and float(bf16[3]) > 0
