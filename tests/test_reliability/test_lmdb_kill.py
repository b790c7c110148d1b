"""A paired LMDB rebuild killed with SIGKILL leaves the old pair or, once completed, the new pair: never new HR
beside old LR."""
import os
import signal
import subprocess
import sys

import pytest

from mrr_plugin.data.data_checks import dataset_problems, lmdb_faces
from mrr_plugin.data.face_lmdb import build_face_lmdb, read_build_info
from tests.conftest import PROJECT_ROOT, python_env

KILL_AT = os.path.join(PROJECT_ROOT, 'tests', 'helpers', 'kill_at.py')
CREATE = os.path.join(PROJECT_ROOT, 'scripts', 'create_face_lmdb.py')


@pytest.mark.parametrize('kill_point, expect', [
    (('os.rename', 'build_info.json', '1'), 'old'),  # while the new LMDBs are still being finished
    (('os.rename', 'LR.lmdb', '1'), 'new'),  # HR already replaced, LR not yet
])
def test_paired_rebuild_killed_anywhere_keeps_a_consistent_pair(kill_point, expect, face_pairs, tmp_path):
    hr, lr, names = face_pairs
    hr_out, lr_out = str(tmp_path / 'HR.lmdb'), str(tmp_path / 'LR.lmdb')
    build_face_lmdb(hr, hr_out, lr, lr_out, names=names[:6], progress=False)
    old_id = read_build_info(hr_out)['build_id']
    subset = tmp_path / 'new'
    for side, source in (('HR', hr), ('LR', lr)):
        (subset / side).mkdir(parents=True)
        for name in names[6:10]:
            os.symlink(os.path.join(source, name), subset / side / name)
    killed = subprocess.run([sys.executable, KILL_AT, *kill_point, CREATE, '--hr', str(subset / 'HR'), '--lr',
                             str(subset / 'LR'), '--out-hr', hr_out, '--out-lr', lr_out, '--overwrite'],
                            env=python_env(tmp_path), capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL

    dataset = {'dataroot_gt': hr_out, 'dataroot_lq': lr_out, 'io_backend': {'type': 'lmdb'}}
    assert dataset_problems('datasets.val', dataset, 8) == []  # completes a half-done replacement first
    ids = {read_build_info(out)['build_id'] for out in (hr_out, lr_out)}
    faces = [set(lmdb_faces(out)) for out in (hr_out, lr_out)]
    assert len(ids) == 1 and faces[0] == faces[1]
    assert (ids == {old_id}) == (expect == 'old') and len(faces[0]) == (6 if expect == 'old' else 4)
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.replacing')]
