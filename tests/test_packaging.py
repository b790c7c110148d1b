"""The wheel as a user gets it: built from the checkout, installed into a fresh virtual environment (the test's
dependencies beside it), its console commands run from a folder outside the checkout."""
import os
import subprocess
import sys
import sysconfig
import zipfile
from os import path as osp

import pytest
import torch
from PIL import Image
from skimage import data

from mrr_plugin.archs.mrrnet_arch import MRRNet
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(out),
                    PROJECT_ROOT], check=True, capture_output=True, cwd=out)
    [name] = [n for n in os.listdir(out) if n.endswith('.whl')]
    return out / name


def test_the_wheel_holds_the_package_and_its_start_up_hook_only(wheel):
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split('/')[0] for name in archive.namelist()}
        names = archive.namelist()
    assert {top for top in tops if not top.endswith('.dist-info')} == {
        'mrr_plugin', 'mrr_basicsr_compat.py', 'mrr_basicsr_compat.pth'}
    assert 'mrr_plugin/preparation/splits/dic_celeba_test_ids.txt' in names
    assert not any('authors_code' in name or name.startswith('tests/') for name in names)


@pytest.fixture(scope='module')
def fresh_environment(wheel, tmp_path_factory):
    """A new venv with the wheel installed (no dependencies resolved: they are the test environment's, reached
    through a path file; the checkout's editable install is not, since path files inside it are not processed)."""
    root = tmp_path_factory.mktemp('venv')
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(root)], check=True)
    python = str(root / 'bin' / 'python')
    site = subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], check=True,
                          capture_output=True, text=True).stdout.strip()
    with open(osp.join(site, 'test_dependencies.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    subprocess.run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-deps', '--no-index', '-q',
                    str(wheel)], check=True, capture_output=True)
    return root


def run_installed(root, *command, cwd):
    env = {key: value for key, value in os.environ.items() if key not in ('PYTHONPATH', 'MRR_PLUGIN_ROOT')}
    return subprocess.run([str(root / 'bin' / command[0]), *command[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


def test_installed_commands_run_outside_the_checkout(fresh_environment, tmp_path):
    where = run_installed(fresh_environment, 'python', '-c',
                          'import mrr_plugin, basicsr; from basicsr.utils.registry import ARCH_REGISTRY; '
                          'print(mrr_plugin.__file__, "MRRNet" in ARCH_REGISTRY)', cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    location, registered = where.stdout.split()
    assert location.startswith(str(fresh_environment)) and registered == 'True'
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    Image.fromarray(data.astronaut()).save(tmp_path / 'astronaut.png')
    restored = run_installed(fresh_environment, 'mrr-restore', '-i', 'astronaut.png', '-o', 'out',
                             '--model', 'net_g.pth@MRRNet', cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert Image.open(tmp_path / 'out' / 'restored_imgs' / 'astronaut.png').size == (1024, 1024)
    refused = run_installed(fresh_environment, 'mrr-train', '-opt', 'missing.yml', cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.count('error:') == 1 and 'missing.yml' in refused.stderr
