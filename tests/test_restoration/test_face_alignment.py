import numpy as np

from mrr_plugin.data.face_geometry import DetectedFace, crop_face, matrix_scale
from mrr_plugin.restoration.face_alignment import (DIC_TEMPLATE_128, dic_box_matrix, face_matrix, paste_face,
                                                   scale_translation_fit, upscaled_matrix)


def apply(matrix, points):
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_scale_translation_fit_recovers_a_known_transform():
    points = np.array([[10.0, 20], [40, 18], [25, 35], [12, 50], [38, 52]])
    truth = np.array([[1.7, 0, -3.0], [0, 1.7, 5.5]])
    np.testing.assert_allclose(scale_translation_fit(points, apply(truth, points)), truth, atol=1e-12)


def test_dic_crop_from_landmarks_puts_them_on_the_template():
    face = DetectedFace((0, 0, 1, 1), landmarks=DIC_TEMPLATE_128 * 0.5 + [100, 40])  # a 64-px crop at (100, 40)
    matrix = face_matrix(face, 'dic', 128)
    np.testing.assert_allclose(matrix, [[2, 0, -200], [0, 2, -80]], atol=1e-9)
    assert matrix_scale(matrix) == 2


def test_upscaled_matrix_maps_the_same_photo_point_to_the_same_crop_point():
    matrix = dic_box_matrix((50, 60, 110, 120), 128)
    for upscale in (1, 2, 3.5, 8):
        photo_points = np.array([[50.0, 60], [80, 90], [0, 0]])
        output_points = (photo_points + 0.5) * upscale - 0.5  # pixel centres of the upscaled image
        np.testing.assert_allclose(apply(upscaled_matrix(matrix, upscale), output_points),
                                   apply(matrix, photo_points), atol=1e-9)


def test_crop_face_of_a_larger_face_is_antialiased_not_point_sampled():
    stripes = np.zeros((400, 400, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: a point-sampled 4x reduction gives pure black or white
    crop = crop_face(stripes, np.array([[0.25, 0, 0], [0, 0.25, 0]]), 64)
    assert abs(float(crop[8:-8, 8:-8].mean()) - 127.5) < 8 and crop[8:-8, 8:-8].std() < 10


def test_paste_face_is_the_face_where_the_mask_is_one_and_untouched_outside():
    rng = np.random.default_rng(0)
    canvas = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    original = canvas.copy()
    face = rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)
    matrix = np.array([[1.0, 0, -100], [0, 1.0, -50]])  # the crop is the canvas window x 100..227, y 50..177
    region_mask, (top, left) = paste_face(canvas, face, matrix, feather=6)
    mask = np.zeros(canvas.shape[:2], np.float32)
    mask[top:top + region_mask.shape[0], left:left + region_mask.shape[1]] = region_mask
    assert region_mask.shape[0] < 170 and region_mask.shape[1] < 170  # the footprint and 2 feathers, not the canvas
    core = mask == 1
    assert core[50 + 13:50 + 115, 100 + 13:100 + 115].all()  # shrunk by at most twice the feather
    np.testing.assert_array_equal(canvas[core], face[np.nonzero(core)[0] - 50, np.nonzero(core)[1] - 100])
    outside = np.ones_like(core)
    outside[50:178, 100:228] = False
    assert (mask[outside] == 0).all() and (canvas[outside] == original[outside]).all()
    assert ((mask > 0) & (mask < 1)).any()  # a feathered band, no hard crop border


def test_paste_face_region_at_the_canvas_edge_and_outside():
    canvas = np.zeros((100, 100, 3), np.uint8)
    face = np.full((64, 64, 3), 200, np.uint8)
    mask, (top, left) = paste_face(canvas, face, np.array([[1.0, 0, 30], [0, 1.0, 30]]), feather=2)  # at (-30, -30)
    assert (top, left) == (0, 0) and canvas[:20, :20].min() == 200 and canvas[40:, 40:].max() == 0
    untouched = canvas.copy()
    mask, _ = paste_face(canvas, face, np.array([[1.0, 0, 500], [0, 1.0, 0]]), feather=2)  # entirely outside
    assert mask.size == 0 and np.array_equal(canvas, untouched)
