import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = os.path.join(PROJECT_ROOT, 'scripts', 'create_face_lmdb.py')


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300)


def test_builds_paired_lmdbs_from_face_folders(face_pairs, tmp_path):
    hr, lr, names = face_pairs
    result = run('--hr', hr, '--lr', lr, '--out-hr', str(tmp_path / 'hr.lmdb'), '--out-lr', str(tmp_path / 'lr.lmdb'))
    assert result.returncode == 0, result.stderr
    assert f'wrote {len(names)} faces' in result.stdout
    assert len(open(tmp_path / 'lr.lmdb' / 'meta_info.txt').readlines()) == len(names)
    again = run('--hr', hr, '--out-hr', str(tmp_path / 'hr.lmdb'))
    assert again.returncode == 1 and 'already exists' in again.stderr and 'Traceback' not in again.stderr


def test_bad_input_is_one_clear_message(tmp_path):
    (tmp_path / 'faces').mkdir()
    (tmp_path / 'faces' / 'broken.jpg').write_bytes(b'not a jpeg')
    result = run('--hr', str(tmp_path / 'faces'), '--out-hr', str(tmp_path / 'out.lmdb'))
    assert result.returncode == 1
    assert 'broken.jpg: cannot be decoded' in result.stderr and 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'out.lmdb')
    missing = run('--hr', str(tmp_path / 'nowhere'), '--out-hr', str(tmp_path / 'out.lmdb'))
    assert missing.returncode == 1 and 'is not a folder' in missing.stderr
