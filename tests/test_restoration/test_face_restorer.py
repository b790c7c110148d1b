"""The restorer on real photos: scikit-image's astronaut and composites of real faces pasted into scikit-image's
photographs (the astronaut's face and its mirror image everywhere; the team's real dev faces for the recall
measurement)."""
from os import path as osp

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from mrr_plugin.archs.mrrnet_arch import MRRNet
from mrr_plugin.restoration import BackgroundUpsampler, FaceModel, FaceRestorer, build_detector
from mrr_plugin.restoration.face_restorer import bicubic_resize
from tests.helpers.face_photos import (BACKGROUNDS, NO_GUARDS, PaintFace, background, composite, painted_region,
                                       write_astronaut_faces)

ASTRONAUT_FACE = (180, 60, 268, 174)  # x0, y0, x1, y1 of Eileen Collins' face in skimage's astronaut.png


@pytest.fixture(scope='module')
def mtcnn():
    return build_detector('mtcnn')


LAYOUTS = [[(60, 80, 96), (300, 60, 64), (480, 300, 128)], [(100, 200, 48), (400, 100, 112)],
           [(40, 40, 80), (250, 250, 128), (500, 60, 72)]]


def make_composites(paths):
    """Three photos, eight faces of 48-128 px at known places: [(photo, [(x, y, side), ...])]."""
    photos, start = [], 0
    for layout, name in zip(LAYOUTS, BACKGROUNDS):
        photos.append((composite(paths[start:start + len(layout)], layout, name), layout))
        start += len(layout)
    return photos


@pytest.fixture(scope='module')
def astronaut_faces(tmp_path_factory):
    return write_astronaut_faces(tmp_path_factory.mktemp('astronaut_faces'))


@pytest.fixture(scope='module')
def composites(astronaut_faces):
    """The astronaut's face and its mirror image, alternately, at the eight places."""
    return make_composites([astronaut_faces[k % 2] for k in range(8)])


def paint_restorer(detector, upscale=2, **kwargs):
    return FaceRestorer(FaceModel.from_network(PaintFace()), detector, upscale=upscale, **{**NO_GUARDS, **kwargs})


def test_astronaut_face_is_found_restored_and_pasted_where_it_was(mtcnn):
    photo = data.astronaut()
    result = paint_restorer(mtcnn, upscale=2).restore(photo)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert np.abs(np.array(face.detection.box) - ASTRONAUT_FACE).max() < 12
    assert face.restored.shape == (128, 128, 3) and face.lr.shape == (16, 16, 3)
    assert result.image.shape == (1024, 1024, 3)
    ys, xs = np.nonzero(painted_region(result.image))
    centre = np.array([(ASTRONAUT_FACE[0] + ASTRONAUT_FACE[2]) / 2, (ASTRONAUT_FACE[1] + ASTRONAUT_FACE[3]) / 2])
    assert np.abs(np.array([xs.mean(), ys.mean()]) / 2 - centre).max() < 10
    assert 'detail finer than 16 px is lost' in result.notes[0]  # a 144-px face for a 16-px input
    far = np.ones(result.image.shape[:2], bool)
    far[30 * 2:220 * 2, 130 * 2:320 * 2] = False  # away from the face the output is the bicubic photo
    np.testing.assert_array_equal(result.image[far], bicubic_resize(photo, (1024, 1024))[far])


def test_composites_recall_and_paste_back_position(mtcnn, composites):
    assert_found_and_pasted_back(mtcnn, composites)


def test_detection_recall_on_composites_of_real_dev_faces(mtcnn, dev_faces):
    """The same check on eight different real CelebA faces (a measurement: README's detector comparison)."""
    hr, _, names = dev_faces
    assert_found_and_pasted_back(mtcnn, make_composites([osp.join(hr, name) for name in names[200:208]]))


def assert_found_and_pasted_back(mtcnn, composites):
    upscale = 2
    results = paint_restorer(mtcnn, upscale, batch_size=3).restore_many([photo for photo, _ in composites])
    found = 0
    for (photo, layout), result in zip(composites, results):
        centres = np.array([face.detection.center for face in result.faces])
        for x, y, side in layout:
            distances = np.hypot(*(centres - [x + side / 2, y + side / 2]).T) if len(centres) else np.array([1e9])
            nearest = int(np.argmin(distances))
            if distances[nearest] > side / 3:
                continue
            found += 1
            face = result.faces[nearest]
            assert abs(face.side / side - 1) < 0.2  # the DIC crop of a DIC-cropped face is about the face itself
            # the painted square of this face: centred where the face was, about side x upscale wide
            window = painted_region(result.image)[upscale * (y - side // 2):upscale * (y + side + side // 2),
                                                  upscale * (x - side // 2):upscale * (x + side + side // 2)]
            ys, xs = np.nonzero(window)
            centre = np.array([xs.mean(), ys.mean()]) / upscale - side / 2 + [x, y]
            assert np.abs(centre - [x + side / 2, y + side / 2]).max() < 0.15 * side  # landmark fit: p95 0.07
            assert 0.5 < np.sqrt(window.sum()) / (side * upscale) < 1.2
        assert len(result.faces) <= len(layout)  # no false detection in these photos
    assert found / sum(len(layout) for _, layout in composites) >= 0.85


def test_faces_batched_across_photos_equal_one_photo_at_a_time(mtcnn, composites):
    torch.manual_seed(0)
    restorer = FaceRestorer(FaceModel.from_network(MRRNet().eval()), mtcnn, upscale=1, batch_size=4, **NO_GUARDS)
    photos = [photo for photo, _ in composites[:2]]
    together = restorer.restore_many(photos)
    restorer.batch_size = 1
    for photo, batched in zip(photos, together):
        alone = restorer.restore(photo)
        assert len(alone.faces) == len(batched.faces)
        for a, b in zip(alone.faces, batched.faces):
            assert np.abs(a.restored.astype(int) - b.restored.astype(int)).max() <= 1  # float reordering only


def test_only_center_face_aligned_inputs_and_a_photo_without_faces(mtcnn, composites, astronaut_faces):
    photo, layout = composites[0]
    result = paint_restorer(mtcnn, only_center_face=True).restore(photo)
    assert len(result.faces) == 1
    centre = np.array(photo.shape[1::-1]) / 2
    nearest = min(layout, key=lambda p: np.hypot(p[0] + p[2] / 2 - centre[0], p[1] + p[2] / 2 - centre[1]))
    nearest_centre = [nearest[0] + nearest[2] / 2, nearest[1] + nearest[2] / 2]
    assert np.hypot(*(np.array(result.faces[0].detection.center) - nearest_centre)) < nearest[2] / 3

    face = np.asarray(Image.open(astronaut_faces[0]).convert('RGB'))
    aligned = paint_restorer(None, aligned=True).restore(face)
    assert aligned.image.shape == (128, 128, 3) and painted_region(aligned.image).all()
    lr_face = bicubic_resize(face, (16, 16))
    assert np.array_equal(paint_restorer(None, aligned=True).restore(lr_face).faces[0].lr, lr_face)  # as it is
    grey = paint_restorer(mtcnn, upscale=1).restore(data.astronaut().mean(2).astype(np.uint8))
    assert grey.image.shape == (512, 512, 3) and len(grey.faces) == 1

    empty = background('coffee')
    result = paint_restorer(mtcnn, upscale=1.5).restore(empty)
    assert result.faces == [] and 'no face found' in result.notes[0]
    np.testing.assert_array_equal(result.image, bicubic_resize(empty, (960, 720)))


def test_bf16_restores_close_to_fp32(mtcnn):
    torch.manual_seed(0)
    model = FaceModel.from_network(MRRNet().eval())
    fp32 = FaceRestorer(model, mtcnn, **NO_GUARDS).restore(data.astronaut())
    bf16 = FaceRestorer(model, mtcnn, precision='bf16', **NO_GUARDS).restore(data.astronaut())
    difference = np.abs(fp32.faces[0].restored.astype(int) - bf16.faces[0].restored.astype(int))
    assert difference.mean() < 3 and np.array_equal(fp32.faces[0].lr, bf16.faces[0].lr)
    with pytest.raises(ValueError, match='fp16 needs a CUDA device'):
        FaceRestorer(model, mtcnn, precision='fp16', device='cpu')


def test_tiled_background_network_equals_untiled():
    from basicsr.archs.srvgg_arch import SRVGGNetCompact
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=8, num_conv=3, upscale=2).eval()  # receptive field 9 px < the tiles' 10-px pad
    photo = background('chelsea', (150, 110))
    tiled = BackgroundUpsampler(net, tile=48)(photo, 2)
    whole = BackgroundUpsampler(net, tile=0)(photo, 2)
    assert tiled.shape == (220, 300, 3) and np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1
    assert np.abs(tiled.astype(int) - bicubic_resize(photo, (300, 220)).astype(int)).mean() > 5  # really the net


def test_lbp_and_retinaface_detectors(tmp_path):
    faces = build_detector('lbp')(data.astronaut())
    assert any(np.abs(np.array(face.center) - [224, 117]).max() < 20 for face in faces)
    with pytest.raises(FileNotFoundError, match='detection_Resnet50_Final.pth.*nothing is downloaded'):
        build_detector('retinaface', str(tmp_path))
    from facexlib.detection.retinaface import RetinaFace

    from mrr_plugin.preparation.face_detection import DETECTION_FILE
    torch.manual_seed(0)  # random weights under facexlib's file name: plumbing only
    torch.save(RetinaFace(network_name='resnet50', half=False, device=torch.device('cpu')).state_dict(),
               tmp_path / DETECTION_FILE)
    detector = build_detector('retinaface', str(tmp_path))
    for face in detector(data.astronaut()[:160, :160]):
        assert len(face.box) == 4 and face.landmarks.shape == (5, 2) and 0.8 <= face.score <= 1


def test_ffhq_alignment_for_a_network_that_does_not_upscale(mtcnn):
    """SPARNetHD-like geometry (input = output = 64 px here): FFHQ template crop, pasted back where the face was."""
    model = FaceModel.from_network(PaintFace(in_size=64, upscale=1))
    assert (model.lr_size, model.hr_size, model.alignment) == (64, 64, 'ffhq')
    result = FaceRestorer(model, mtcnn, upscale=1, **NO_GUARDS).restore(data.astronaut())
    face = result.faces[0]
    from mrr_plugin.data.face_geometry import FFHQ_TEMPLATE_512
    mapped = face.detection.landmarks @ face.matrix[:, :2].T + face.matrix[:, 2]
    assert np.abs(mapped - FFHQ_TEMPLATE_512 * 64 / 512).max() < 3  # a similarity fit of 5 points
    ys, xs = np.nonzero(painted_region(result.image))
    centre = np.array([(ASTRONAUT_FACE[0] + ASTRONAUT_FACE[2]) / 2, (ASTRONAUT_FACE[1] + ASTRONAUT_FACE[3]) / 2])
    assert np.abs(np.array([xs.mean(), ys.mean()]) - centre).max() < 15


@pytest.mark.parametrize('stored', ['L', 'RGB'])
def test_grey_photo_is_restored_grey(mtcnn, stored):
    """A grey photo (one channel, or three equal ones) comes out grey although the network paints in colour; a colour
    photo keeps the network's colours."""
    grey = np.asarray(Image.fromarray(data.astronaut()).convert('L'))
    photo = grey if stored == 'L' else np.repeat(grey[..., None], 3, 2)
    result = paint_restorer(mtcnn, upscale=1).restore(photo)
    assert len(result.faces) == 1 and 'grey photo' in result.notes[-1]
    image, face = result.image, result.faces[0].restored
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    assert (face[..., 0] == face[..., 2]).all()
    painted = paint_restorer(mtcnn, upscale=1).restore(data.astronaut())
    assert not (painted.faces[0].restored[..., 0] == painted.faces[0].restored[..., 2]).all()
    assert np.abs(image.astype(int) - np.repeat(grey[..., None], 3, 2)).max() > 20  # the face was really pasted
