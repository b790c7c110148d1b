import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut

from mrr_plugin.data.face_image_io import BadImageError
from mrr_plugin.preparation.face_annotations import (DIC_CELEBA_TEST_IDS, AnnotationError, read_celeba_list,
                                                     read_helen_annotations, read_name_list)
from mrr_plugin.preparation.face_preparation import (FaceSource, aligned_face, dic_hr_face, enlarged_square_box,
                                                     landmark_box, split_names, write_face_pairs)


def test_dic_box_of_celeba_000001():
    # list_bbox_celeba.txt: 000001.jpg 95 71 226 313 (x y w h: corners 95 71 321 384) in a 409x687 image;
    # side 1.3 * 313 = 406.9 about (208, 227.5)
    assert enlarged_square_box((95, 71, 321, 384), (409, 687)) == (5, 24, 409, 431)
    assert enlarged_square_box((100, 100, 200, 200), (1000, 1000)) == (85, 85, 215, 215)  # 15 % per side
    assert enlarged_square_box((0, 0, 50, 40), (1000, 1000)) == (0, 0, 58, 53)  # clipped at the image border
    with pytest.raises(BadImageError):
        enlarged_square_box((2000, 2000, 2010, 2010), (100, 100))
    with pytest.raises(BadImageError):
        enlarged_square_box((10, 10, 10, 15), (100, 100))


def test_landmark_box_and_hr_face_geometry(tmp_path):
    assert landmark_box([[10, 20], [30, 60]]) == (10, 20, 30, 60)
    assert landmark_box([[10, 20], [30, 60]], extent=2.0) == (0, 0, 40, 80)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (300, 200, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / 'p.png')
    hr = dic_hr_face(FaceSource('p', str(tmp_path / 'p.png'), box=(50, 60, 150, 180)), 128)
    # square of side 1.3 * 120 = 156 about (100, 120): 78 px each side
    expected = Image.fromarray(photo).crop((22, 42, 178, 198)).resize((128, 128), Image.BICUBIC)
    np.testing.assert_array_equal(np.asarray(hr), np.asarray(expected))


def test_alignment_puts_landmarks_on_the_template():
    from mrr_plugin.data.face_geometry import FFHQ_TEMPLATE_512
    image = np.zeros((400, 400, 3), np.uint8)
    landmarks = FFHQ_TEMPLATE_512 * 0.5 + 40  # the template, scaled and shifted
    for x, y in landmarks:
        image[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2] = 255
    face = np.asarray(aligned_face(Image.fromarray(image), landmarks, 512))
    for x, y in FFHQ_TEMPLATE_512:
        assert face[int(round(y)), int(round(x))].max() > 100


def test_training_and_restoration_cut_the_same_ffhq_crop():
    """mrr-prepare-faces --align and mrr-restore --alignment ffhq: one matrix, one warp, the same pixels (also
    where the crop reaches past the photo's edge)."""
    from mrr_plugin.data.face_geometry import FFHQ_TEMPLATE_512, DetectedFace, crop_face
    from mrr_plugin.restoration.face_alignment import face_matrix
    photo = np.asarray(Image.fromarray(astronaut()).resize((256, 256), Image.BICUBIC))
    landmarks = FFHQ_TEMPLATE_512 * 0.4 - 20  # a face cut by the top-left corner
    prepared = np.asarray(aligned_face(Image.fromarray(photo), landmarks, 128))
    restored = crop_face(photo, face_matrix(DetectedFace((0, 0, 1, 1), landmarks), 'ffhq', 128), 128)
    np.testing.assert_array_equal(prepared, restored)


def test_split_names_is_seeded_and_disjoint():
    names = [f'{i:06d}' for i in range(20)]
    splits = split_names(names, ['000003', '000007', 'absent'], val_count=5)
    assert splits['test'] == ['000003', '000007'] and len(splits['val']) == 5 and len(splits['train']) == 13
    assert split_names(names, ['000003'], val_count=5)['val'] == split_names(names, ['000003'], val_count=5)['val']
    assert 'val' not in split_names(names)


def test_write_pairs_resumes_and_reports_bad_files(tmp_path):
    rng = np.random.default_rng(1)
    sources = []
    for index in range(3):
        path = tmp_path / f'{index}.png'
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
        sources.append(FaceSource(str(index), str(path)))
    (tmp_path / 'broken.jpg').write_bytes(b'not a jpeg')
    sources.append(FaceSource('broken', str(tmp_path / 'broken.jpg')))

    def make_hr(source):
        return dic_hr_face(source, 32)
    out = tmp_path / 'out'
    report = write_face_pairs(sources, str(out), make_hr, scale=8, progress=False)
    assert report.written == 3 and list(report.bad) == ['broken']
    lr = Image.open(out / 'LR' / '0.png')
    hr = Image.open(out / 'HR' / '0.png')
    assert hr.size == (32, 32) and lr.size == (4, 4)
    np.testing.assert_array_equal(np.asarray(lr), np.asarray(hr.resize((4, 4), Image.BICUBIC)))
    (out / 'HR' / '1.png').unlink()  # as if interrupted before this pair was finished
    report = write_face_pairs(sources, str(out), make_hr, scale=8, progress=False)
    assert (report.written, report.resumed) == (1, 2) and (out / 'HR' / '1.png').is_file()


def test_celeba_list_format(tmp_path):
    path = tmp_path / 'list_bbox_celeba.txt'
    path.write_text('2\nimage_id x_1 y_1 width height\n000001.jpg    95  71 226 313\n000002.jpg    72  94 221 306\n')
    rows = read_celeba_list(path)
    assert list(rows) == ['000001', '000002'] and rows['000001'].tolist() == [95, 71, 226, 313]
    path.write_text('3\nimage_id x_1 y_1 width height\n000001.jpg    95  71 226 313\n')
    with pytest.raises(AnnotationError, match='announces 3'):
        read_celeba_list(path)
    path.write_text('1\nlefteye_x lefteye_y righteye_x\n000001.jpg 1 2\n')
    with pytest.raises(AnnotationError, match=':3:'):
        read_celeba_list(path)


def test_helen_annotation_format(tmp_path):
    points = '\n'.join(f'{i}.5 , {2 * i}.25' for i in range(194))
    (tmp_path / '1.txt').write_text(f'100032540_1\n{points}\n')
    annotations = read_helen_annotations(tmp_path)
    assert annotations['100032540_1'].shape == (194, 2) and annotations['100032540_1'][3].tolist() == [3.5, 6.25]
    (tmp_path / '2.txt').write_text('broken\n1 , 2\n')
    with pytest.raises(AnnotationError, match='2.txt'):
        read_helen_annotations(tmp_path)


def test_dic_test_ids_are_shipped():
    ids = read_name_list(DIC_CELEBA_TEST_IDS)
    assert len(ids) == len(set(ids)) == 1000 and all(i.isdigit() for i in ids)
