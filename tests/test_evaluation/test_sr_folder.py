"""`mrr-benchmark --sr-folder NAME=DIR`: SR faces made elsewhere, scored beside the networks; every refusal is one
line before anything is written."""
import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mrr_plugin.benchmark import main
from mrr_plugin.evaluation.methods import bicubic_method, method_from_folder
from mrr_plugin.evaluation.runner import load_test_set, lr_batch
from mrr_plugin.utils.visual import tensor_to_rgb

COUNT = 12


@pytest.fixture(scope='module')
def test_faces(face_pairs):
    hr, lr, _ = face_pairs
    return load_test_set(hr, lr, COUNT)


@pytest.fixture()
def bicubic_folder(face_pairs, test_faces, tmp_path):
    """The benchmark's bicubic x8 of the LR faces, saved as another toolbox would (PNG, named like the HR faces)."""
    folder = tmp_path / 'elsewhere'
    folder.mkdir()
    sr = bicubic_method().super_resolve(lr_batch(test_faces, 'cpu'), 8)
    for (name, _, _), image in zip(test_faces, sr):
        Image.fromarray(tensor_to_rgb(image)).save(folder / f'{name}.png')
    return folder


def test_folder_scores_as_the_method_that_made_it(face_pairs, bicubic_folder, tmp_path):
    """A folder holding the bicubic baseline's outputs gets its numbers, and the paired difference is exactly zero."""
    hr, lr, _ = face_pairs
    out = tmp_path / 'bench'
    command = [sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', hr, '--lr', lr, '--out', str(out), '--limit',
               str(COUNT), '--timing-runs', '1', '--grid-faces', '2', '--sr-folder', f'elsewhere={bicubic_folder}']
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out / 'results.csv') as f:
        rows = {row['method']: row for row in csv.DictReader(f)}
    assert list(rows) == ['bicubic', 'elsewhere']
    for key in ('psnr_dic', 'ssim_dic', 'psnr_basicsr', 'psnr_dic_low', 'psnr_dic_high'):
        assert rows['elsewhere'][key] == rows['bicubic'][key]
    assert rows['elsewhere']['latency_ms'] == '' and float(rows['bicubic']['latency_ms']) > 0  # not run here
    record = json.loads((out / 'methods' / 'elsewhere.json').read_text())
    assert str(bicubic_folder) in record['description'] and len(record['per_face']['psnr_dic']) == COUNT
    with open(out / 'differences.csv') as f:
        difference = next(d for d in csv.DictReader(f) if d['metric'] == 'psnr_dic')
    assert (float(difference['a_minus_b']), float(difference['wilcoxon_p'])) == (0.0, 1.0)
    assert '| elsewhere - bicubic | +0.00 [+0.00, +0.00] p=1 ≈0 |' in (out / 'results.md').read_text()
    assert Image.open(out / 'grid.png').size[0] == 4 * 130 + 2  # LR, bicubic, elsewhere, HR
    # another folder's content is another method: not reused by name
    first = sorted(os.listdir(bicubic_folder))[0]
    Image.fromarray(np.zeros((128, 128, 3), np.uint8)).save(bicubic_folder / first)
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and 'elsewhere: reusing' not in again.stdout and 'bicubic: reusing' in again.stdout


def refusal(face_pairs, tmp_path, spec, *extra):
    hr, lr, _ = face_pairs
    out = tmp_path / 'out'
    code = main(['--hr', hr, '--lr', lr, '--out', str(out), '--limit', str(COUNT), '--sr-folder', spec, *extra])
    assert code == 1 and not out.exists()


@pytest.mark.parametrize('damage, message', [
    ('missing', '1 of the 12 test faces have no SR file: '),
    ('extra', '1 file(s) match no test face: stranger.png'),
    ('doubled', 'have more than one file: '),
    ('wrong size', 'SR face(s) of the wrong size: '),
    ('truncated', '1 file(s) cannot be read as images: '),
    ('not a folder', 'is not a folder'),
])
def test_each_bad_folder_is_one_line_and_nothing_is_written(face_pairs, test_faces, bicubic_folder, tmp_path,
                                                            capsys, damage, message):
    names = sorted(os.listdir(bicubic_folder))
    spec = f'other={bicubic_folder}'
    if damage == 'missing':
        os.remove(bicubic_folder / names[3])
    elif damage == 'extra':
        shutil.copy(bicubic_folder / names[0], bicubic_folder / 'stranger.png')
    elif damage == 'doubled':
        Image.open(bicubic_folder / names[1]).save(bicubic_folder / (names[1][:-4] + '.jpg'))
    elif damage == 'wrong size':
        Image.open(bicubic_folder / names[2]).resize((64, 64)).save(bicubic_folder / names[2])
    elif damage == 'truncated':
        data = (bicubic_folder / names[4]).read_bytes()
        (bicubic_folder / names[4]).write_bytes(data[:len(data) // 3])
    else:
        spec = f'other={bicubic_folder / names[0]}'
    if damage != 'extra':
        refusal(face_pairs, tmp_path, spec)
    else:  # files beyond the test faces are an error on the whole set, and tolerated under --limit
        with pytest.raises(ValueError, match='match no test face'):
            method_from_folder(spec, test_faces, limited=False)
        assert method_from_folder(spec, test_faces, limited=True).name == 'other'
    if damage == 'extra':
        return
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith('error:')]  # the rest: the test set's progress bar
    assert len(errors) == 1 and errors[0].startswith('error: --sr-folder other=') and 'Traceback' not in err
    assert message in errors[0]
    if damage == 'wrong size':
        assert f'{names[2]} is 64x64, not 128x128' in errors[0]


def test_names_of_folder_methods_are_checked(face_pairs, bicubic_folder, tmp_path, capsys):
    refusal(face_pairs, tmp_path, f'bicubic={bicubic_folder}')
    assert 'always included' in capsys.readouterr().err
    refusal(face_pairs, tmp_path, f'../up={bicubic_folder}')
    assert 'names files under --out' in capsys.readouterr().err
    refusal(face_pairs, tmp_path, f'a={bicubic_folder}', '--sr-folder', f'a={bicubic_folder}')
    assert 'Method names must differ' in capsys.readouterr().err
