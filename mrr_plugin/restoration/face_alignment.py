"""Crop a detected face the way a model's training faces were cropped, and paste the restored face back.

Affine matrices are 2x3 and map photo pixels to face-crop pixels, both with pixel centres at integer coordinates
(OpenCV's convention), so the inverse used for pasting back is exact.

- ``dic``: the DIC x8 protocol's axis-aligned square (CelebA/Helen-trained x8 models: MRRNet, SPARNet, baselines).
  From landmarks, a scale + translation (no rotation, as the protocol's boxes) fitting the 5 landmarks to
  :data:`DIC_TEMPLATE_128`; from a box alone, the box widened by :data:`BOX_TO_DIC_CROP`.
- ``ffhq``: the similarity transform onto facexlib/GFPGAN's FFHQ 5-point template (FFHQ-trained: SPARNetHD),
  the crop ``mrr-prepare-faces --align`` makes (:mod:`mrr_plugin.data.face_geometry`).
"""
import cv2
import numpy as np

from mrr_plugin.data.face_geometry import ffhq_matrix, matrix_scale, pixel_scale
from mrr_plugin.restoration.face_guards import template_fit_error

ALIGNMENTS = ('dic', 'ffhq')
# Mean MTCNN landmarks (left eye, right eye, nose, left/right mouth corner) of the 600 real CelebA dev faces of the
# DIC protocol (128x128 crops, ../shared/data/celeba_dic_dev), measured with facenet-pytorch 2.6.0's MTCNN.
DIC_TEMPLATE_128 = np.array([[45.55, 45.92], [82.48, 45.08], [64.11, 68.18], [48.02, 83.94], [81.68, 83.11]])
# Box-only detectors (the LBP cascade): crop side = box width / 0.731, crop centre 0.052 x side below the box centre
# (same 600 faces; the cascade's boxes vary by about 0.09 of the side).
BOX_TO_DIC_CROP = {'width_ratio': 0.731, 'center_dy': 0.052}


def scale_translation_fit(points, template):
    """Least-squares ``template ~ s * points + t`` (no rotation): the 2x3 matrix."""
    points, template = np.asarray(points, np.float64), np.asarray(template, np.float64)
    p, q = points - points.mean(0), template - template.mean(0)
    s = (p * q).sum() / max((p * p).sum(), 1e-12)
    t = template.mean(0) - s * points.mean(0)
    return np.array([[s, 0, t[0]], [0, s, t[1]]])


def dic_box_matrix(box, size):
    """2x3 matrix of the DIC square crop of a detector ``box`` (x0, y0, x1, y1) resized to ``size``."""
    x0, y0, x1, y1 = box
    side = (x1 - x0) / BOX_TO_DIC_CROP['width_ratio']
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + BOX_TO_DIC_CROP['center_dy'] * side
    s = size / side
    return np.array([[s, 0, size / 2 - 0.5 - s * (cx - 0.5)], [0, s, size / 2 - 0.5 - s * (cy - 0.5)]])


def face_matrix(face, alignment, size):
    """Photo -> ``size`` x ``size`` crop matrix of a :class:`~.face_detectors.DetectedFace`."""
    if alignment not in ALIGNMENTS:
        raise ValueError(f'--alignment {alignment}: expected one of {", ".join(ALIGNMENTS)}.')
    if face.landmarks is None:
        if alignment == 'ffhq':
            raise ValueError('the ffhq alignment needs 5 landmarks; this detector gives boxes only (use mtcnn or '
                             'retinaface).')
        return dic_box_matrix(face.box, size)
    if alignment == 'dic':
        return scale_translation_fit(face.landmarks, dic_template(size))
    return ffhq_matrix(face.landmarks, size)


def dic_template(size):
    """:data:`DIC_TEMPLATE_128` for a ``size`` x ``size`` crop."""
    return DIC_TEMPLATE_128 * size / 128


def pose_fit_error(face, alignment, matrix, size):
    """How far the face's 5 landmarks stay from the DIC template under its crop ``matrix``
    (:func:`~mrr_plugin.restoration.face_guards.template_fit_error`); None for the ``ffhq`` crop (a similarity that
    follows the tilt) and for a face without landmarks."""
    if alignment != 'dic' or face.landmarks is None:
        return None
    return template_fit_error(face.landmarks, matrix, dic_template(size))


def upscaled_matrix(matrix, upscale):
    """Matrix from the ``upscale``-times larger output image to the same crop."""
    return (np.vstack([matrix, [0, 0, 1]]) @ pixel_scale(1 / upscale))[:2]


def footprint_box(matrix, size, shape, margin=2):
    """(top, left, bottom, right) of the canvas region the crop's inverse warp can touch, clipped to ``shape``."""
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]])
    points = corners @ inverse[:, :2].T + inverse[:, 2]
    (left, top), (right, bottom) = np.floor(points.min(0)) - margin, np.ceil(points.max(0)) + margin + 1
    height, width = shape[:2]
    return int(max(top, 0)), int(max(left, 0)), int(min(bottom, height)), int(min(right, width))


def paste_face(canvas, face, matrix, feather=None, alpha=1.0):
    """Warp ``face`` (restored crop, uint8) back into ``canvas`` (uint8, modified in place) through the inverse of
    ``matrix`` (canvas -> crop) under a feathered mask. Only the face's footprint region is touched; returns
    ``(mask, (top, left))``: the mask (float32, [0, 1]) of that region and where the region starts.

    The mask is exactly 1 on the face's footprint shrunk by twice the feather width (``feather`` px, default 1/20 of
    the pasted side) and falls to 0 inside the footprint's outer band through a Gaussian blur, so no crop border
    shows (where the photo's edge cuts the face there is no band); where it is 1 the canvas holds the warped face.
    ``alpha`` < 1 scales the whole mask (a video's face fading in or out).
    """
    size = face.shape[0]
    if feather is None:
        feather = max(1, int(round(size / matrix_scale(matrix) / 20)))
    top, left, bottom, right = footprint_box(matrix, size, canvas.shape, margin=2 * feather + 2)
    if bottom <= top or right <= left:
        return np.zeros((0, 0), np.float32), (top, left)
    region = canvas[top:bottom, left:right]
    to_crop = (np.vstack([matrix, [0, 0, 1]]) @ np.array([[1, 0, left], [0, 1, top], [0, 0, 1]]))[:2]
    shape = (right - left, bottom - top)
    pasted = cv2.warpAffine(face, to_crop, shape, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    footprint = cv2.warpAffine(np.ones((size, size), np.float32), to_crop, shape,
                               flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0)
    # the region has 2 feather widths of margin around the footprint, so eroding with OpenCV's default border (no
    # erosion from outside) only leaves a face cut by the photo's edge unfeathered there, as it should be
    kernel = np.ones((2 * feather + 1, 2 * feather + 1), np.uint8)
    inner = cv2.erode(footprint, kernel)
    mask = cv2.GaussianBlur(inner, (2 * feather + 1, 2 * feather + 1), 0)  # reaches feather px out: inside footprint
    mask[cv2.erode(inner, kernel) > 0] = 1
    mask = np.clip(mask, 0, 1) * np.float32(alpha)
    blended = mask[..., None] * pasted.astype(np.float32) + (1 - mask[..., None]) * region.astype(np.float32)
    region[:] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return mask, (top, left)
