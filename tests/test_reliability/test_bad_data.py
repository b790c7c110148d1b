"""Bad faces are named before anything is touched (header scan, ``--check-data full``, paired sets, LMDB builds),
and at run time by dataset and file (or skipped with ``skip_bad: true``)."""
import os
import shutil
import subprocess
import sys

import pytest

from mrr_plugin.data.checked_samples import DATA_ERROR_EXIT
from mrr_plugin.data.data_checks import dataset_problems
from mrr_plugin.data.face_lmdb import build_face_lmdb, read_build_info
from tests.conftest import python_env, tiny_training_dict, write_options


@pytest.fixture
def face_folders(face_pairs, tmp_path):
    """HR and LR folders of 12 synthetic face pairs, free to damage."""
    hr, lr, names = face_pairs
    folders = {}
    for side, source in (('HR', hr), ('LR', lr)):
        folders[side] = tmp_path / side
        folders[side].mkdir()
        for name in names[:12]:
            shutil.copy(os.path.join(source, name), folders[side] / name)
    return folders, names[:12]


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def paired(folders, **extra):
    return {'name': 'pairs', 'type': 'PairedImageDataset', 'dataroot_gt': str(folders['HR']),
            'dataroot_lq': str(folders['LR']), 'io_backend': {'type': 'disk'}, **extra}


def test_header_scan_names_empty_and_non_image_files_and_full_decodes_truncated_ones(face_folders):
    folders, names = face_folders
    (folders['HR'] / names[0]).write_bytes(b'')
    (folders['HR'] / names[1]).write_text('not a face')
    truncate(folders['HR'] / names[2])
    headers = dataset_problems('datasets.val', paired(folders), 8)
    assert len(headers) == 1 and headers[0].startswith('datasets.val.dataroot_gt: 2 file(s) of ')
    assert f'{names[0]}: empty file.' in headers[0] and f'{names[1]}: not an image' in headers[0]
    full = dataset_problems('datasets.val', paired(folders), 8, full=True)
    assert len(full) == 1 and '3 file(s)' in full[0] and f'{names[2]}: cannot be decoded' in full[0]


def test_paired_sets_must_hold_the_same_faces_at_scale(face_folders):
    folders, names = face_folders
    os.remove(folders['LR'] / names[3])
    problems = dataset_problems('datasets.val', paired(folders), 8)
    assert problems == [f'datasets.val: dataroot_gt and dataroot_lq hold different faces (1 HR face(s) without LR: '
                        f'{names[3]}; 0 LR face(s) without HR: -).']
    shutil.copy(folders['HR'] / names[3], folders['LR'] / names[3])  # a 128x128 "LR" face
    problems = dataset_problems('datasets.val', paired(folders), 8)
    assert problems == [f'datasets.val: 1 LR face(s) x scale 8 do not give their HR size, e.g. {names[3]}: LR '
                        '128x128, HR 128x128.']


def test_lmdbs_of_different_builds_are_refused(face_folders, tmp_path):
    folders, names = face_folders
    hr_lmdb, lr_lmdb = str(tmp_path / 'HR.lmdb'), str(tmp_path / 'LR.lmdb')
    build_face_lmdb(str(folders['HR']), hr_lmdb, str(folders['LR']), lr_lmdb, progress=False)
    lmdb = {'type': 'lmdb'}
    dataset = {**paired(folders), 'dataroot_gt': hr_lmdb, 'dataroot_lq': lr_lmdb, 'io_backend': lmdb}
    assert dataset_problems('datasets.val', dataset, 8) == []
    assert read_build_info(hr_lmdb)['build_id'] == read_build_info(lr_lmdb)['build_id']
    build_face_lmdb(str(folders['HR']), hr_lmdb, overwrite=True, progress=False)  # HR rebuilt alone
    assert dataset_problems('datasets.val', dataset, 8) == [
        f'datasets.val: dataroot_gt {hr_lmdb} and dataroot_lq {lr_lmdb} come from different builds of '
        'scripts/create_face_lmdb.py; rebuild them together.']


def run(entry, opt_path, root, *extra):
    return subprocess.run([sys.executable, '-m', f'mrr_plugin.{entry}', '-opt', opt_path, *extra],
                          env=python_env(root), capture_output=True, text=True, timeout=600)


def folder_training(tmp_path, face_lmdbs, folders, **train_extra):
    opt = tiny_training_dict(face_lmdbs, 'bad_faces', 4, workers=0)
    opt['datasets']['train'].update(dataroot_gt=str(folders['HR']), io_backend={'type': 'disk'}, **train_extra)
    opt['val']['val_freq'] = 100
    return write_options(tmp_path / 'bad.yml', opt)


@pytest.mark.parametrize('check', ['headers', 'full'])
def test_training_refuses_bad_faces_before_anything_is_created(check, face_folders, face_lmdbs, tmp_path):
    folders, names = face_folders
    damaged = names[5]
    if check == 'full':
        truncate(folders['HR'] / damaged)
    else:
        (folders['HR'] / damaged).write_bytes(b'')
    root = tmp_path / 'project'
    result = run('train', folder_training(tmp_path, face_lmdbs, folders), root, '--check-data', check)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert f'datasets.train.dataroot_gt: 1 file(s) of {folders["HR"]} are not readable images: {damaged}' in \
        result.stderr
    assert not root.exists()


@pytest.mark.slow
def test_unreadable_face_at_run_time_is_named_or_skipped(face_folders, face_lmdbs, tmp_path):
    """A face that breaks after the checks (here: not checked) stops the run naming the dataset and file; with
    ``skip_bad: true`` the run finishes and the log names each replaced face."""
    folders, names = face_folders
    for name in names[4:]:  # 4 good faces, 8 bad ones: batch 2 meets a bad one at once
        truncate(folders['HR'] / name)
    root = tmp_path / 'project'
    result = run('train', folder_training(tmp_path, face_lmdbs, folders), root, '--check-data', 'none')
    assert result.returncode == DATA_ERROR_EXIT and 'Traceback' not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and errors[0].startswith('error: datasets.train (dev_train): cannot read ')
    assert str(folders['HR']) in errors[0] and any(name in errors[0] for name in names[4:])
    assert 'cannot be decoded as an image' in errors[0]

    result = run('train', folder_training(tmp_path, face_lmdbs, folders, skip_bad=True), root, '--check-data', 'none')
    assert result.returncode == 0, result.stderr[-3000:]
    skips = [line for line in result.stderr.splitlines() if 'skip_bad: datasets.train (dev_train): cannot read' in line]
    assert skips and all('using the next face instead' in line for line in skips)


def test_test_entry_point_names_the_bad_lr_face_of_a_paired_set(face_folders, tmp_path):
    """BasicSR's PairedImageDataset reports a bad file as ``'NoneType' object has no attribute 'astype'``."""
    folders, names = face_folders
    (folders['LR'] / names[7]).write_text('not a face')
    opt = {'name': 'bad_test', 'model_type': 'FaceSRModel', 'scale': 8, 'num_gpu': 0,
           'datasets': {'test_1': {**paired(folders), 'name': 'dev_pairs'}},
           'network_g': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
           'path': {'pretrain_network_g': None}, 'val': {'save_img': False}}
    root = tmp_path / 'project'
    result = run('test', write_options(tmp_path / 'test.yml', opt), root, '--check-data', 'none')
    assert result.returncode == DATA_ERROR_EXIT and 'Traceback' not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(error) == 1 and error[0].startswith('error: datasets.test_1 (dev_pairs): cannot read ')
    assert str(folders['LR'] / names[7]) in error[0] and str(folders['HR'] / names[7]) not in error[0]
    checked = run('test', write_options(tmp_path / 'test.yml', opt), tmp_path / 'project2')
    assert checked.returncode == 2 and f'{names[7]}: not an image' in checked.stderr
    assert not (tmp_path / 'project2').exists()


def test_benchmark_names_bad_faces_before_creating_out(face_folders, tmp_path):
    folders, names = face_folders
    (folders['HR'] / names[2]).write_bytes(b'')
    os.remove(folders['LR'] / names[4])
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, '-m', 'mrr_plugin.benchmark', '--hr', str(folders['HR']), '--lr',
                             str(folders['LR']), '--out', str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and 'Traceback' not in result.stderr and not out.exists()
    assert f'error: --hr: 1 file(s) of {folders["HR"]} are not readable images: {names[2]}: empty file.' in \
        result.stderr
    assert f'--hr and --lr hold different faces (1 HR face(s) without LR: {names[4]}; 0 LR face(s) without HR: -).' \
        in result.stderr


def test_an_empty_folder_and_a_malformed_lmdb_meta_info_are_named(tmp_path):
    empty, lmdb = tmp_path / 'empty', tmp_path / 'x.lmdb'
    empty.mkdir(), lmdb.mkdir()
    (lmdb / 'data.mdb').write_bytes(b'')
    (lmdb / 'meta_info.txt').write_text('00001.png (128,128,3) 1\n00002.png 128x128\n')
    problems = dataset_problems('datasets.train', {'dataroot_gt': str(empty), 'io_backend': {'type': 'disk'}}, 8)
    assert problems == [f'datasets.train.dataroot_gt: {empty} holds no images.']
    problems = dataset_problems('datasets.train', {'dataroot_gt': str(lmdb), 'io_backend': {'type': 'lmdb'}}, 8)
    assert problems == [f'datasets.train.dataroot_gt: {lmdb}/meta_info.txt line 2 is not "<key>.png (<h>,<w>,<c>) '
                        '<level>".']
