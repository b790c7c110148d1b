import os
import subprocess
import sys

from PIL import Image

from tests.conftest import PROJECT_ROOT

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'show_degradations.py')


def test_writes_a_grid_of_degraded_samples(synthetic_faces, tmp_path):
    out = tmp_path / 'grid.png'
    result = subprocess.run([sys.executable, SCRIPT, '--faces', synthetic_faces, '--out', str(out), '--count', '2',
                             '--samples', '3', '--set', 'gt_size=64', 'down_size=[16,32]'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (4 * 130 + 2, 18 + 2 * 130 + 2)
    missing = subprocess.run([sys.executable, SCRIPT, '--faces', str(tmp_path / 'none'), '--out', str(out)],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and 'not a folder' in missing.stderr
