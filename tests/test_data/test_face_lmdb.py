import os
import shutil
from os import path as osp

import lmdb
import numpy as np
import pytest
from PIL import Image

from mrr_plugin.data import face_lmdb
from mrr_plugin.data.face_image_io import decode_rgb
from mrr_plugin.data.face_lmdb import LmdbBuildError, build_face_lmdb


@pytest.fixture
def pairs(tmp_path, synthetic_faces):
    """HR/LR folders of 6 synthetic faces (LR by PIL bicubic)."""
    hr, lr = tmp_path / 'HR', tmp_path / 'LR'
    lr.mkdir()
    shutil.copytree(synthetic_faces, hr)
    for name in sorted(os.listdir(hr))[6:]:
        os.remove(hr / name)
    for name in os.listdir(hr):
        Image.open(hr / name).resize((16, 16), Image.BICUBIC).save(lr / name)
    return str(hr), str(lr)


def read_lmdb(path):
    env = lmdb.open(path, readonly=True, lock=False)
    with env.begin() as txn:
        items = {k.decode(): decode_rgb(v, k) for k, v in txn.cursor()}
    env.close()
    return items


def test_round_trip_pixels_keys_and_meta(pairs, tmp_path):
    hr, lr = pairs
    report = build_face_lmdb(hr, str(tmp_path / 'hr.lmdb'), lr, str(tmp_path / 'lr.lmdb'), progress=False)
    assert report.written == 6 and not report.bad
    stored_hr, stored_lr = read_lmdb(str(tmp_path / 'hr.lmdb')), read_lmdb(str(tmp_path / 'lr.lmdb'))
    assert sorted(stored_hr) == sorted(osp.splitext(n)[0] for n in os.listdir(hr)) == sorted(stored_lr)
    for key, image in stored_hr.items():
        np.testing.assert_array_equal(np.asarray(image), np.asarray(Image.open(f'{hr}/{key}.png').convert('RGB')))
        assert stored_lr[key].size == (16, 16)
    meta = open(tmp_path / 'hr.lmdb' / 'meta_info.txt').read().splitlines()
    assert len(meta) == 6 and all(line.endswith('.png (128,128,3) 1') for line in meta)
    assert not any(p.name.endswith('.partial') for p in tmp_path.iterdir())


def test_keys_have_no_dots_and_basicsr_reads_them(tmp_path, synthetic_faces):
    from basicsr.data.data_util import paths_from_lmdb
    folder = tmp_path / 'dotted'
    folder.mkdir()
    shutil.copy(f'{synthetic_faces}/synthetic_00000.png', folder / 'face.v2.png')
    build_face_lmdb(str(folder), str(tmp_path / 'out.lmdb'), progress=False)
    assert paths_from_lmdb(str(tmp_path / 'out.lmdb')) == ['face_v2']
    assert list(read_lmdb(str(tmp_path / 'out.lmdb'))) == ['face_v2']


def test_bad_images_are_named_and_nothing_is_written(pairs, tmp_path):
    hr, lr = pairs
    with open(f'{hr}/corrupt.png', 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\nnot really')
    Image.new('RGB', (100, 128)).save(f'{hr}/wrong_size.png')
    Image.new('RGB', (16, 16)).save(f'{lr}/corrupt.png')
    Image.new('RGB', (16, 16)).save(f'{lr}/wrong_size.png')
    with pytest.raises(LmdbBuildError) as error:
        build_face_lmdb(hr, str(tmp_path / 'hr.lmdb'), lr, str(tmp_path / 'lr.lmdb'), progress=False)
    message = str(error.value)
    assert 'corrupt.png: cannot be decoded' in message and 'wrong_size.png: size 100x128, expected 128x128' in message
    assert not osp.exists(tmp_path / 'hr.lmdb') and not osp.exists(tmp_path / 'lr.lmdb')
    assert not osp.exists(tmp_path / 'hr.lmdb.partial')

    report = build_face_lmdb(hr, str(tmp_path / 'hr.lmdb'), lr, str(tmp_path / 'lr.lmdb'), skip_bad=True,
                             progress=False)
    assert report.written == 6 and sorted(report.bad) == ['corrupt.png', 'wrong_size.png']
    assert len(read_lmdb(str(tmp_path / 'hr.lmdb'))) == 6


def test_lr_of_wrong_size_or_missing_is_rejected(pairs, tmp_path):
    hr, lr = pairs
    first = sorted(os.listdir(lr))[0]
    Image.new('RGB', (32, 32)).save(f'{lr}/{first}')
    with pytest.raises(LmdbBuildError, match=f'{first}: size 32x32, expected 16x16'):
        build_face_lmdb(hr, str(tmp_path / 'a'), lr, str(tmp_path / 'b'), progress=False)
    os.remove(f'{lr}/{first}')
    with pytest.raises(LmdbBuildError, match='no LR partner'):
        build_face_lmdb(hr, str(tmp_path / 'a'), lr, str(tmp_path / 'b'), progress=False)


def test_existing_output_is_refused_unless_overwrite(pairs, tmp_path):
    hr, _ = pairs
    out = str(tmp_path / 'hr.lmdb')
    build_face_lmdb(hr, out, progress=False)
    with pytest.raises(LmdbBuildError, match='already exists'):
        build_face_lmdb(hr, out, progress=False)
    os.remove(f'{hr}/{sorted(os.listdir(hr))[0]}')
    assert build_face_lmdb(hr, out, overwrite=True, progress=False).written == 5
    assert len(read_lmdb(out)) == 5


def test_interrupted_build_leaves_no_valid_looking_lmdb(pairs, tmp_path, monkeypatch):
    hr, _ = pairs
    out = str(tmp_path / 'hr.lmdb')
    real_png_bytes, calls = face_lmdb._png_bytes, []

    def dying_png_bytes(rgb):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_png_bytes(rgb)

    monkeypatch.setattr(face_lmdb, '_png_bytes', dying_png_bytes)
    with pytest.raises(KeyboardInterrupt):
        build_face_lmdb(hr, out, progress=False)
    assert not osp.exists(out)
    monkeypatch.setattr(face_lmdb, '_png_bytes', real_png_bytes)
    assert build_face_lmdb(hr, out, progress=False).written == 6  # the stale .partial is replaced
    assert not osp.exists(out + '.partial')


def test_non_ascii_names_are_refused(tmp_path, synthetic_faces):
    folder = tmp_path / 'faces'
    folder.mkdir()
    shutil.copy(f'{synthetic_faces}/synthetic_00000.png', folder / 'visage_é.png')
    with pytest.raises(LmdbBuildError, match='ASCII'):
        build_face_lmdb(str(folder), str(tmp_path / 'out.lmdb'), progress=False)
