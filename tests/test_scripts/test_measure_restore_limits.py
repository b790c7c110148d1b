"""scripts/measure_restore_limits.py on the real faces scikit-image ships (the astronaut's, and its mirror image)."""
import subprocess
import sys

import torch

from mrr_plugin.archs.mrrnet_arch import MRRNet
from tests.conftest import PROJECT_ROOT
from tests.helpers.face_photos import write_astronaut_faces


def test_prints_the_three_measurements(tmp_path):
    faces = tmp_path / 'faces'
    faces.mkdir()
    write_astronaut_faces(faces)
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    result = subprocess.run([sys.executable, 'scripts/measure_restore_limits.py', '--faces', str(faces), '--model',
                             f'{tmp_path / "net_g.pth"}@MRRNet', '--real-lr', str(faces)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert '2 faces from' in out and '| 32 | 2.00 |' in out and '(2 faces, 0 without a detection)' in out
    rows = {line.split(' | ')[0].lstrip('| '): line for line in out.splitlines() if line.startswith('| ')}
    assert rows['the HR face itself'].split(' | ')[1] == '0.000'  # the LR faces are made from it
    assert 'on 2 real low-quality faces' in out
    bicubic = float(rows['bicubic upscaling of the input'].split(' | ')[1])
    moved = float(rows['the face moved by one input pixel'].split(' | ')[1])
    assert 0 < bicubic < moved
