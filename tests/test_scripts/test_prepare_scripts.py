"""The dataset preparation commands, end to end on fixtures in the official annotation formats and on faces the
project draws."""
import os
import subprocess
import sys

import lmdb
import numpy as np
import pytest
import torch
from PIL import Image

from mrr_plugin.preparation.face_detection import DETECTION_FILE
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def run(script, *args, ok=True):
    result = subprocess.run([sys.executable, os.path.join(PROJECT_ROOT, 'scripts', script), *map(str, args)],
                            capture_output=True, text=True, timeout=600)
    assert (result.returncode == 0) == ok, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def lmdb_image(folder, key):
    env = lmdb.open(str(folder), readonly=True, lock=False)
    with env.begin() as txn:
        data = txn.get(key.encode())
    env.close()
    import cv2
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]


def lmdb_keys(folder):
    with open(os.path.join(folder, 'meta_info.txt')) as f:
        return sorted(line.split('.')[0] for line in f)


@pytest.fixture
def celeba_wild(tmp_path):
    """img_celeba/ with 4 photos (2 of them DIC test ids), one corrupt file, and both CelebA list files."""
    rng = np.random.default_rng(0)
    folder = tmp_path / 'img_celeba'
    folder.mkdir()
    names = ['000001', '000002', '000004', '201418', '201421']
    for name in names[:-1] + ['201421']:
        Image.fromarray(rng.integers(0, 256, (240, 200, 3), dtype=np.uint8)).save(folder / f'{name}.jpg', quality=95)
    (folder / '000003.jpg').write_bytes(b'\xff\xd8 truncated')
    all_names = sorted(names + ['000003'])
    boxes = tmp_path / 'list_bbox_celeba.txt'
    boxes.write_text(f'{len(all_names)}\nimage_id x_1 y_1 width height\n'
                     + ''.join(f'{n}.jpg    40  50 100 120\n' for n in all_names))
    landmarks = tmp_path / 'list_landmarks_celeba.txt'
    landmarks.write_text(f'{len(all_names)}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x '
                         'leftmouth_y rightmouth_x rightmouth_y\n'
                         + ''.join(f'{n}.jpg 70 90 130 90 100 120 75 150 125 150\n' for n in all_names))
    return folder, boxes, landmarks


def test_prepare_celeba_dic_protocol_splits_lmdbs_and_resume(celeba_wild, tmp_path):
    images, boxes, _ = celeba_wild
    out = tmp_path / 'CelebA'
    log = run('prepare_celeba.py', '--images', images, '--bbox', boxes, '--out', out, '--val-count', '1',
              '--keep-png')
    assert 'bad: 000003' in log and 'test: 2 written' in log
    assert lmdb_keys(out / 'test_HR.lmdb') == lmdb_keys(out / 'test_LR.lmdb') == ['201418', '201421']
    assert len(lmdb_keys(out / 'train_HR.lmdb')) == 2 and len(lmdb_keys(out / 'val_HR.lmdb')) == 1
    # geometry: box (40, 50, 100, 120) -> square side 156 about (90, 110), clipped to x >= 0
    photo = Image.open(images / '201418.jpg').convert('RGB')
    expected_hr = photo.crop((12, 32, 168, 188)).resize((128, 128), Image.BICUBIC)
    hr = lmdb_image(out / 'test_HR.lmdb', '201418')
    np.testing.assert_array_equal(hr, np.asarray(expected_hr))
    np.testing.assert_array_equal(lmdb_image(out / 'test_LR.lmdb', '201418'),
                                  np.asarray(expected_hr.resize((16, 16), Image.BICUBIC)))
    log = run('prepare_celeba.py', '--images', images, '--bbox', boxes, '--out', out, '--val-count', '1')
    assert 'test: 0 written, 2 already there (resumed)' in log


def test_prepare_celeba_from_landmarks_as_png(celeba_wild, tmp_path):
    images, _, landmarks = celeba_wild
    out = tmp_path / 'CelebA_png'
    run('prepare_celeba.py', '--images', images, '--landmarks', landmarks, '--out', out, '--format', 'png')
    # 5 landmarks span 60 x 60 about (100, 120); extent 2 -> box side 120; x 1.3 -> 156
    photo = Image.open(images / '000001.jpg').convert('RGB')
    expected = photo.crop((22, 42, 178, 198)).resize((128, 128), Image.BICUBIC)
    np.testing.assert_array_equal(np.asarray(Image.open(out / 'train' / 'HR' / '000001.png')), np.asarray(expected))
    assert not (out / 'train_HR.lmdb').exists()


def test_prepare_helen_with_a_test_list(tmp_path):
    rng = np.random.default_rng(2)
    images, annotations = tmp_path / 'helen_1', tmp_path / 'annotation'
    images.mkdir()
    annotations.mkdir()
    for index, name in enumerate(['100032540_1', '100040721_1', '100040721_2'], start=1):
        Image.fromarray(rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)).save(images / f'{name}.jpg')
        points = rng.uniform([60, 80], [180, 220], (194, 2))
        points[0], points[1] = (60, 80), (180, 220)  # bounding box 120 x 140
        (annotations / f'{index}.txt').write_text(name + '\n' + '\n'.join(f'{x} , {y}' for x, y in points) + '\n')
    test_list = tmp_path / 'test_names.txt'
    test_list.write_text('100040721_2\n')
    out = tmp_path / 'Helen'
    run('prepare_helen.py', '--images', tmp_path, '--annotations', annotations, '--test-list', test_list, '--out', out)
    assert lmdb_keys(out / 'test_HR.lmdb') == ['100040721_2'] and len(lmdb_keys(out / 'train_LR.lmdb')) == 2
    # square side 1.3 * 140 = 182 about (120, 150)
    expected = Image.open(images / '100040721_2.jpg').crop((29, 59, 211, 241)).resize((128, 128), Image.BICUBIC)
    np.testing.assert_array_equal(lmdb_image(out / 'test_HR.lmdb', '100040721_2'), np.asarray(expected))
    test_list.write_text('not_in_helen\n')
    assert 'no annotation' in run('prepare_helen.py', '--images', tmp_path, '--annotations', annotations,
                                  '--test-list', test_list, '--out', out, ok=False)


def test_prepare_dic_cuts_faces_and_moves_landmarks_as_dic(tmp_path):
    """DIC's annotation pickle (box + 68 points per img_celeba image) -> HR/LR LMDBs cut as their dataset cuts, and
    the landmark file the DIC recipe reads; a pickle that would run code is refused before anything is written."""
    import pickle

    from mrr_plugin.data.face_landmarks import read_landmarks
    rng = np.random.default_rng(4)
    images = tmp_path / 'img_celeba'
    images.mkdir()
    info = {}
    for name in ('000001', '000002', '000003'):
        Image.fromarray(rng.integers(0, 256, (220, 180, 3), dtype=np.uint8)).save(images / f'{name}.jpg')
        info[f'{name}.jpg'] = {'landmark': rng.uniform(50, 150, (68, 2)), 'bbox': [30, 40, 150, 160]}
    with open(tmp_path / 'new_train_info_list.pkl', 'wb') as f:
        pickle.dump(info, f)
    out = tmp_path / 'CelebA_DIC'
    log = run('prepare_dic.py', '--images', images, '--info', tmp_path / 'new_train_info_list.pkl', '--out', out)
    assert 'train: landmarks of 3 faces' in log
    assert lmdb_keys(out / 'train_HR.lmdb') == ['000001', '000002', '000003']
    expected = Image.open(images / '000002.jpg').crop((30, 40, 150, 160)).resize((128, 128), Image.BICUBIC)
    np.testing.assert_array_equal(lmdb_image(out / 'train_HR.lmdb', '000002'), np.asarray(expected))
    size, landmarks = read_landmarks(out / 'train_landmarks.json')
    theirs = [[(p[0] - 30) * 128 / 120, (p[1] - 40) * 128 / 120] for p in info['000002.jpg']['landmark']]
    assert size == 128 and np.abs(landmarks['000002'] - theirs).max() < 1e-3

    class RunsCode:
        def __reduce__(self):
            return (os.system, ('touch ran',))

    with open(tmp_path / 'hostile.pkl', 'wb') as f:
        pickle.dump({'000001.jpg': RunsCode()}, f)
    log = run('prepare_dic.py', '--images', images, '--info', tmp_path / 'hostile.pkl', '--out', tmp_path / 'x',
              ok=False)
    assert 'nothing in it was run' in log and 'system' in log and 'Traceback' not in log
    assert not (tmp_path / 'x').exists() and not os.path.exists('ran')


def test_prepare_ffhq_bilinear_hr_only(tmp_path):
    rng = np.random.default_rng(3)
    (tmp_path / 'images1024x1024' / '00000').mkdir(parents=True)
    for index in range(3):
        Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(
            tmp_path / 'images1024x1024' / '00000' / f'{index:05d}.png')
    out = tmp_path / 'FFHQ'
    run('prepare_ffhq.py', '--images', tmp_path / 'images1024x1024', '--out', out, '--hr-size', '64',
        '--val-count', '1')
    assert len(lmdb_keys(out / 'train_HR.lmdb')) == 2 and lmdb_keys(out / 'val_HR.lmdb')
    assert not (out / 'train_LR.lmdb').exists()
    key = lmdb_keys(out / 'train_HR.lmdb')[0]
    source = Image.open(tmp_path / 'images1024x1024' / '00000' / f'{key}.png')
    np.testing.assert_array_equal(lmdb_image(out / 'train_HR.lmdb', key),
                                  np.asarray(source.resize((64, 64), Image.BILINEAR)))


def test_prepare_faces_crop_only_reproduces_the_pairs(face_pairs, tmp_path):
    hr_folder, lr_folder, names = face_pairs
    photos = tmp_path / 'photos'
    photos.mkdir()
    for name in names[:12]:
        os.symlink(os.path.join(hr_folder, name), photos / name)
    out = tmp_path / 'faces'
    run('prepare_faces.py', '--images', photos, '--out', out, '--crop-only', '--format', 'png')
    for name in names[:12]:
        np.testing.assert_array_equal(np.asarray(Image.open(out / 'train' / 'HR' / name)),
                                      np.asarray(Image.open(os.path.join(hr_folder, name)).convert('RGB')))
        np.testing.assert_array_equal(np.asarray(Image.open(out / 'train' / 'LR' / name)),
                                      np.asarray(Image.open(os.path.join(lr_folder, name)).convert('RGB')))


def test_prepare_faces_detection_plumbing_and_missing_weights(tmp_path):
    from facexlib.detection.retinaface import RetinaFace
    rng = np.random.default_rng(4)
    photos = tmp_path / 'photos'
    photos.mkdir()
    for index in range(2):
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(photos / f'photo{index}.png')
    out = tmp_path / 'faces'
    log = run('prepare_faces.py', '--images', photos, '--out', out, ok=False)
    assert DETECTION_FILE in log and 'nothing is downloaded' in log and 'Traceback' not in log

    weights = tmp_path / 'facexlib'
    weights.mkdir()
    torch.manual_seed(0)  # random weights under facexlib's file name: the outputs mean nothing, the plumbing runs
    torch.save(RetinaFace(network_name='resnet50', half=False, device=torch.device('cpu')).state_dict(),
               weights / DETECTION_FILE)
    for extra, folder in (([], 'boxes'), (['--align'], 'aligned')):
        log = run('prepare_faces.py', '--images', photos, '--out', out / folder, '--weights-dir', weights,
                  '--threshold', '0.3', '--min-face', '1', '--max-faces', '2', '--format', 'png', *extra)
        assert '4 faces in 2 photos' in log and 'train: 4 written' in log
        assert (out / folder / 'detections.json').is_file()
        written = sorted(os.listdir(out / folder / 'train' / 'HR'))
        assert written == ['photo0_0.png', 'photo0_1.png', 'photo1_0.png', 'photo1_1.png']
        assert all(Image.open(out / folder / 'train' / 'HR' / name).size == (128, 128) for name in written)
