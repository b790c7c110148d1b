"""The README's main job (`python -m mrr_plugin.demo`) end to end, with a few iterations."""
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import python_env

pytestmark = pytest.mark.slow


def test_demo_on_builtin_synthetic_faces_prints_table_and_writes_grid(tmp_path):
    command = [sys.executable, '-m', 'mrr_plugin.demo', '--iters', '2', '--val-count', '3']
    result = subprocess.run(command, cwd=tmp_path, env=python_env(tmp_path), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'SYNTHETIC' in result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith('| bicubic |') for line in lines)
    assert any(line.startswith('| MRRNet |') for line in lines)
    assert len(os.listdir(tmp_path / 'datasets' / 'demo_synthetic' / 'HR')) == 360
    assert (tmp_path / 'experiments' / 'MRRNet_x8_demo_CPU' / 'models' / 'net_g_latest.pth').is_file()
    grid = Image.open(tmp_path / 'results' / 'demo' / 'grid.png')
    assert grid.size[0] == 4 * 130 + 2 and grid.size[1] > 3 * 128
    assert 'bicubic' in (tmp_path / 'results' / 'demo' / 'results.md').read_text()
