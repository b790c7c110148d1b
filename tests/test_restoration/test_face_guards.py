"""Never a worse face: faces routed by size to the model that fits them (or left to the background), faces tilted
beyond the DIC crop left alone, restorations that do not reproduce their input not pasted; on composites of the real
face of scikit-image's astronaut."""
import cv2
import numpy as np
import pytest
from PIL import Image

from mrr_plugin.restoration import FaceModel, FaceRestorer, build_detector
from mrr_plugin.restoration.face_alignment import DIC_TEMPLATE_128, scale_translation_fit
from mrr_plugin.restoration.face_guards import DIC_POSE_LIMIT, lr_consistency_error, pick_model, template_fit_error
from mrr_plugin.restoration.face_restorer import bicubic_resize
from tests.helpers.face_photos import (RED, BicubicFace, PaintFace, background, composite, painted_region,
                                       write_astronaut_faces)
from tests.test_restoration.test_restore_cli import run_restore

BLUE = (0, 0, 255)


@pytest.fixture(scope='module')
def mtcnn():
    return build_detector('mtcnn')


@pytest.fixture(scope='module')
def astronaut_face(tmp_path_factory):
    return write_astronaut_faces(tmp_path_factory.mktemp('faces'))[0]


def test_pick_model_takes_the_largest_input_the_face_covers():
    models = [(None, 16), (None, 32), (None, 64)]
    sides = lambda side: [(side, lr) for _, lr in models]  # noqa: E731
    assert pick_model(sides(20)) == (0, None)
    assert pick_model(sides(40)) == (1, None)
    assert pick_model(sides(100)) == (2, None)
    assert pick_model(sides(10)) == (0, None)  # smaller than every input: the smallest
    index, reason = pick_model(sides(200))
    assert index == 2 and '200 px, 3.1x the 64-px model input (limit --max-face-scale 2)' in reason
    assert pick_model(sides(200), max_face_scale=0) == (2, None) and pick_model(sides(200), 4) == (2, None)
    assert pick_model([(30, 16)], 2) == (0, None) and pick_model([(33, 16)], 2)[1] is not None


def test_template_fit_error_grows_with_tilt_and_profile():
    template = DIC_TEMPLATE_128
    assert template_fit_error(template * 0.5 + 7, scale_translation_fit(template * 0.5 + 7, template), template) < 1e-9
    errors = []
    for degrees in (0, 10, 20, 40, 60):
        angle = np.radians(degrees)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        points = (template - 64) @ rotation.T + 200
        errors.append(template_fit_error(points, scale_translation_fit(points, template), template))
    assert errors[0] < 1e-9 and all(a < b for a, b in zip(errors, errors[1:]))
    assert errors[1] < DIC_POSE_LIMIT < errors[3]
    profile = np.array([[50, 45], [60, 45], [36, 68], [44, 84], [52, 84]], float)  # far eye hidden behind the nose
    assert template_fit_error(profile, scale_translation_fit(profile, template), template) > DIC_POSE_LIMIT


def test_faces_go_to_the_model_that_fits_and_a_large_face_to_the_background(mtcnn, astronaut_face):
    """A 56-px face goes to the 32-px-input model (red), a 100-px face to the 64-px one (blue), a 300-px face fits
    neither within 2x and stays the photo's own face, upscaled."""
    photo = composite([astronaut_face] * 3, [(20, 40, 56), (110, 20, 100), (300, 150, 300)], 'coffee')
    small, large = FaceModel.from_network(PaintFace(RED, 256)), FaceModel.from_network(PaintFace(BLUE, 512))
    assert (small.lr_size, large.lr_size) == (32, 64)
    result = FaceRestorer([small, large], mtcnn, upscale=1, max_lr_error=0).restore(photo)
    faces = sorted(result.faces, key=lambda face: face.side)
    assert [face.model for face in faces] == [small, large]
    assert 45 < faces[0].side < 64 and 80 < faces[1].side < 128  # detected crop sides of the 56- and 100-px faces
    (left_alone,) = result.left_alone
    assert left_alone.model is large and left_alone.restored is None and 280 < left_alone.side < 340
    assert any('--max-face-scale 2): left to the background upsampler' in note for note in result.notes)
    red, blue = painted_region(result.image, RED), painted_region(result.image, BLUE)
    assert red[40:96, 20:76].mean() > 0.3 and blue[20:120, 110:210].mean() > 0.3
    assert not red[150:450, 300:600].any() and not blue[150:450, 300:600].any()
    np.testing.assert_array_equal(result.image[200:400, 350:550], photo[200:400, 350:550])  # upscale 1: as it was

    alone = FaceRestorer(small, mtcnn, upscale=1, max_lr_error=0).restore(photo)
    assert len(alone.faces) == 1 and len(alone.left_alone) == 2  # 100 px is 3.1x a 32-px input
    anything = FaceRestorer(small, mtcnn, upscale=1, max_lr_error=0, max_face_scale=0).restore(photo)
    assert len(anything.faces) == 3 and anything.left_alone == []


@pytest.mark.parametrize('degrees, restored', [(10, True), (50, False)])
def test_a_face_tilted_beyond_the_dic_crop_is_left_alone(mtcnn, astronaut_face, degrees, restored):
    face = cv2.resize(np.asarray(Image.open(astronaut_face).convert('RGB')), (200, 200), interpolation=cv2.INTER_CUBIC)
    tilted = cv2.warpAffine(face, cv2.getRotationMatrix2D((100, 100), degrees, 1.0), (200, 200),
                            borderMode=cv2.BORDER_REFLECT)
    photo = background('chelsea').copy()
    photo[100:300, 200:400] = tilted
    network = FaceModel.from_network(PaintFace())
    result = FaceRestorer(network, mtcnn, upscale=1, max_lr_error=0, max_face_scale=0).restore(photo)
    assert len(result.faces) + len(result.left_alone) == 1
    assert bool(result.faces) == restored and painted_region(result.image).any() == restored
    if not restored:
        assert 'eye distances from the DIC template' in result.left_alone[0].reason
        np.testing.assert_array_equal(result.image, photo)
        assert FaceRestorer(network, mtcnn, upscale=1, max_lr_error=0, max_face_scale=0, pose_limit=0).restore(
            photo).faces


def test_a_restoration_that_does_not_reproduce_its_input_is_not_pasted(mtcnn, astronaut_face):
    photo = composite([astronaut_face], [(200, 100, 24)], 'rocket')
    faithful = FaceRestorer(FaceModel.from_network(BicubicFace()), mtcnn, upscale=4).restore(photo)
    assert len(faithful.faces) == 1 and faithful.left_alone == []  # a 24-px face for a 16-px input
    error = lr_consistency_error(faithful.faces[0].restored, faithful.faces[0].lr)
    assert 0.5 < error < 8  # bicubic upscaling: at most 7.1 on the 600 dev faces
    painted = FaceRestorer(FaceModel.from_network(PaintFace()), mtcnn, upscale=4).restore(photo)
    (face,) = painted.left_alone
    assert painted.faces == [] and face.restored is not None
    assert 'differs from the input by' in face.reason and '(limit --max-lr-error 14)' in face.reason
    np.testing.assert_array_equal(painted.image, bicubic_resize(photo, (2560, 1920)))  # nothing pasted
    assert not (faithful.image == painted.image).all()


def test_the_command_leaves_faces_alone_by_default_and_refuses_bad_limits(mtcnn, astronaut_face, tmp_path, capsys):
    """A random-weight MRRNet (the untrained network a new user might try): the 200-px face is left alone for its
    size, the 24-px one because its restoration does not reproduce it; the photo is written upscaled."""
    import torch

    from mrr_plugin.archs.mrrnet_arch import MRRNet
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    photo = composite([astronaut_face] * 2, [(60, 60, 24), (300, 100, 200)], 'coffee')
    Image.fromarray(photo).save(tmp_path / 'photo.png')
    code, log = run_restore(capsys, '-i', str(tmp_path / 'photo.png'), '-o', str(tmp_path / 'out'), '--model',
                            f'{tmp_path / "net_g.pth"}@MRRNet', guards=True)
    assert code == 0 and 'restored 0 faces in 1 photos' in log and '2 face(s) left as they were' in log
    assert '(limit --max-face-scale 2)' in log and '(limit --max-lr-error 14)' in log
    written = np.asarray(Image.open(tmp_path / 'out' / 'restored_imgs' / 'photo.png'))
    np.testing.assert_array_equal(written, bicubic_resize(photo, (1280, 960)))
    for value, flag in (('-1', '--max-face-scale'), ('nan', '--pose-limit'), ('-0.5', '--max-lr-error')):
        code, log = run_restore(capsys, '-i', str(tmp_path / 'photo.png'), '-o', str(tmp_path / 'refused'),
                                '--model', f'{tmp_path / "net_g.pth"}@MRRNet', flag, value, guards=True)
        assert code == 1 and log.count('error:') == 1 and f'{flag} {value}: expected a number >= 0' in log
        assert not (tmp_path / 'refused').exists()
