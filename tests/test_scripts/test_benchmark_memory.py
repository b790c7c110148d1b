import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'benchmark_memory.py')


def test_reports_both_modes_and_identical_gradients():
    result = subprocess.run([sys.executable, SCRIPT, '--size', '64', '--max-ch', '32', '--runs', '1'],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split('|') for line in result.stdout.splitlines() if line.startswith('| ') and 'peak' not in line]
    assert [row[1].strip() for row in rows] == ['none', 'body', 'all']
    assert rows[0][4].strip() == '1.00' and float(rows[1][2]) >= 0
    assert 'gradients identical: PASS' in result.stdout
