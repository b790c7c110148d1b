"""WFEN, SFMNet and DIC once trained: restoring a photo, ONNX export (an export that fails its onnxruntime check
leaves nothing) and the benchmark table with the quoted rows."""
import os
import subprocess
import sys

import pytest
import torch
from basicsr.archs import build_network
from PIL import Image
from skimage import data

from mrr_plugin import export_onnx
from tests.conftest import python_env
from tests.test_restoration.test_restore_cli import run_restore

# small widths: the same classes and functions, a test-sized cost
TOY = {'WFEN': 'min_ch=8,res_depth=2', 'SFMNet': 'num_features=16,num_blocks=1',
       'DIC': 'num_features=8,num_groups=2,num_steps=2,hg_num_feature=16,num_fusion_block=1'}


def toy_options(arch):
    return {key: int(value) for key, value in (item.split('=') for item in TOY[arch].split(','))}


@pytest.fixture(scope='module')
def toy_checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('field_methods')
    torch.manual_seed(0)
    specs = {}
    for arch in TOY:
        torch.save({'params': build_network({'type': arch, **toy_options(arch)}).state_dict()}, folder / f'{arch}.pth')
        specs[arch] = f'{folder / arch}.pth@{arch}:{TOY[arch]}'
    return specs


@pytest.mark.parametrize('arch', sorted(TOY))
def test_restores_a_photo(arch, toy_checkpoints, tmp_path, capsys):
    Image.fromarray(data.astronaut()).save(tmp_path / 'astronaut.png')
    code, log = run_restore(capsys, '-i', str(tmp_path / 'astronaut.png'), '-o', str(tmp_path / 'out'), '--model',
                            toy_checkpoints[arch], '--save-faces')
    assert code == 0, log
    assert 'restored 1 faces in 1 photos' in log
    assert (tmp_path / 'out' / 'restored_imgs' / 'astronaut.png').is_file()


# onnxruntime vs torch: SFMNet's Fourier phase moves with float32 rounding (torch's own float32 and float64 outputs
# differ by up to 2e-2 on these weights), the others agree to float32 precision
ONNX_TOLERANCE = {'WFEN': 1e-4, 'SFMNet': 0.2, 'DIC': 1e-4}


@pytest.mark.parametrize('arch', sorted(TOY))
def test_onnx_export(arch, toy_checkpoints, tmp_path, capsys):
    out = tmp_path / f'{arch}.onnx'
    argv = ['--model', toy_checkpoints[arch], '--out', str(out), '--dynamic-batch']
    assert export_onnx.main([*argv, '--tolerance', str(ONNX_TOLERANCE[arch])]) == 0
    log = capsys.readouterr().out
    assert float(log.split('max |difference| ')[1].split()[0]) <= ONNX_TOLERANCE[arch] and out.is_file()
    assert sorted(os.listdir(tmp_path)) == [out.name]


def test_an_export_that_fails_its_check_writes_nothing(toy_checkpoints, tmp_path, capsys):
    code = export_onnx.main(['--model', toy_checkpoints['DIC'], '--out', str(tmp_path / 'dic.onnx'), '--tolerance',
                             '-1'])
    assert code == 1 and 'dic.onnx was not written' in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.slow
def test_benchmark_scores_every_method(toy_checkpoints, face_pairs, tmp_path):
    hr, lr, _ = face_pairs
    command = [sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--out', str(tmp_path / 'bench'),
               '--limit', '4', '--timing-runs', '1', '--timing-batch', '2', '--grid-faces', '2', '--protocol', 'dic',
               '--published', 'CelebA']
    for arch, spec in toy_checkpoints.items():
        command += ['--method', f'{arch}={spec}']
    result = subprocess.run(command, env=python_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = (tmp_path / 'bench' / 'results.md').read_text()
    for arch in TOY:
        assert f'| {arch} |' in table
    assert '| SFMNet | 27.56 |' in table and '| RE-SFMNet | 27.70 |' in table  # the quoted rows
