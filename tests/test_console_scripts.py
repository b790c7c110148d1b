"""One CLI contract kept by every installed command (setup.py's ``console_scripts``): ``main(argv=None)`` wrapped by
``@command``, ``--help`` works, and bad input is one ``error:`` line with a documented exit status, no traceback,
nothing created."""
import inspect
import os
import subprocess
import sys
from importlib import import_module
from importlib.metadata import entry_points
from os import path as osp

import pytest

from tests.conftest import python_env

COMMANDS = sorted((ep.name, ep.value) for ep in entry_points(group='console_scripts') if ep.name.startswith('mrr-'))
# a bad input per command (paths that do not exist) and its documented exit status
BAD_INPUT = {
    'mrr-train': (['-opt', 'missing.yml'], 2),
    'mrr-test': (['-opt', 'missing.yml'], 2),
    'mrr-benchmark': (['--hr', 'missing_hr', '--lr', 'missing_lr', '--out', 'out'], 1),
    'mrr-restore': (['-i', 'missing.png', '--model', 'missing.pth@MRRNet', '-o', 'out'], 1),
    'mrr-export-onnx': (['--model', 'missing.pth@MRRNet', '--out', 'out/x.onnx'], 1),
    'mrr-demo': (['--faces', 'missing_faces'], 1),
    'mrr-create-face-lmdb': (['--hr', 'missing_hr', '--out-hr', 'out/x.lmdb'], 1),
    'mrr-prepare-celeba': (['--images', 'missing', '--bbox', 'missing.txt', '--out', 'out'], 1),
    'mrr-prepare-helen': (['--images', 'missing', '--annotations', 'missing', '--test-list', 'missing.txt',
                           '--out', 'out'], 1),
    'mrr-prepare-dic': (['--images', 'missing', '--info', 'missing.pkl', '--out', 'out'], 1),
    'mrr-prepare-ffhq': (['--images', 'missing', '--out', 'out'], 1),
    'mrr-prepare-faces': (['--images', 'missing', '--out', 'out', '--crop-only'], 1),
    'mrr-degrade-faces': (['--opt', 'missing.yml', '--h2l', 'missing.pth', '--hr', 'missing', '--out', 'out'], 1),
}


def test_every_command_has_a_contract_case():
    assert sorted(name for name, _ in COMMANDS) == sorted(BAD_INPUT)


@pytest.mark.parametrize('name, target', COMMANDS, ids=[name for name, _ in COMMANDS])
def test_main_takes_argv_and_is_wrapped_by_command(name, target):
    module, _, function = target.partition(':')
    main = getattr(import_module(module), function)
    assert list(inspect.signature(main).parameters) == ['argv']
    assert getattr(main, '__wrapped__', None) is not None, f'{target} is not decorated with @command'


def script(name):
    path = osp.join(osp.dirname(sys.executable), name)
    assert osp.isfile(path), f'{name} is not installed beside {sys.executable} (pip install -e .)'
    return path


@pytest.mark.parametrize('name', sorted(BAD_INPUT))
def test_help_and_bad_input_as_typed(name, tmp_path):
    help_text = subprocess.run([script(name), '--help'], cwd=tmp_path, env=python_env(tmp_path),
                               capture_output=True, text=True, timeout=300)
    assert help_text.returncode == 0 and 'usage:' in help_text.stdout, help_text.stderr[-2000:]
    argv, status = BAD_INPUT[name]
    result = subprocess.run([script(name), *argv], cwd=tmp_path, env=python_env(tmp_path), capture_output=True,
                            text=True, timeout=300)
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert result.returncode == status, (result.returncode, result.stderr[-2000:])
    assert len(errors) == 1 and 'Traceback' not in result.stderr, result.stderr[-2000:]
    assert 'missing' in errors[0]
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'experiments').exists()
    assert sorted(os.listdir(tmp_path)) == []  # nothing created where the command ran
