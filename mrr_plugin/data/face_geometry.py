"""Where a face is and how it is cut out, one convention for the whole plugin (preparation and restoration).

- A face box is ``(x0, y0, x1, y1)``: its corners in pixels (what detectors return); annotation files that list
  ``x y width height`` (CelebA) are converted where they are read (:func:`corners`).
- An aligned crop is a 2x3 affine matrix from photo pixels to crop pixels, pixel centres at integer coordinates
  (OpenCV's convention), cut by :func:`crop_face`: bicubic, the photo mirrored beyond its edge without repeating
  the edge pixel (``BORDER_REFLECT_101``), a face larger than the crop reduced with PIL's antialiased bicubic; the
  same for the training faces ``mrr-prepare-faces --align`` makes and the faces ``mrr-restore`` cuts for a model
  trained on them.
"""
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# facexlib / GFPGAN's FFHQ template of the 5 landmarks (left eye, right eye, nose, left and right mouth corner) in a
# 512x512 face
FFHQ_TEMPLATE_512 = np.array([[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
                              [201.26117, 371.41043], [313.08905, 371.15118]], dtype=np.float32)


@dataclass
class DetectedFace:
    """A face in photo pixels: ``box`` (x0, y0, x1, y1), ``landmarks`` (5, 2) or None, ``score`` in [0, 1]."""
    box: tuple
    landmarks: np.ndarray = None
    score: float = 1.0

    @property
    def center(self):
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    @property
    def side(self):
        """The box's shorter side."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def corners(x, y, width, height):
    """``(x0, y0, x1, y1)`` of a box given as its top-left corner and size."""
    return x, y, x + width, y + height


def ffhq_matrix(landmarks, size):
    """2x3 similarity matrix taking the 5 ``landmarks`` onto the FFHQ template scaled to ``size``; ValueError when
    they do not define one (e.g. all on one point)."""
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float32).reshape(5, 2),
                                            FFHQ_TEMPLATE_512 * (size / 512), method=cv2.LMEDS)
    if matrix is None:
        raise ValueError('the landmarks do not define a similarity transform.')
    return matrix.astype(np.float64)


def warp_face(image, matrix, size):
    """The ``size`` x ``size`` warp of the uint8 array ``image`` by ``matrix`` (bicubic, mirrored borders)."""
    return cv2.warpAffine(np.asarray(image), matrix, (size, size), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT_101)


def matrix_scale(matrix):
    """How many crop pixels one photo pixel becomes."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def crop_face(image, matrix, size):
    """The ``size`` x ``size`` crop of an RGB uint8 ``image``. A face larger than the crop is first warped at its
    own resolution and then reduced with PIL's antialiased bicubic (as the training crops were), never point-sampled."""
    scale = matrix_scale(matrix)
    if scale >= 1:
        return warp_face(image, matrix, size)
    native = max(size, int(round(size / scale)))
    crop = warp_face(image, _then_scale(matrix, native / size), native)
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))


def pixel_scale(factor):
    """3x3 matrix resizing an image by ``factor`` with pixel centres at integers: x' = factor (x + 0.5) - 0.5."""
    shift = (factor - 1) / 2
    return np.array([[factor, 0, shift], [0, factor, shift], [0, 0, 1]])


def _then_scale(matrix, factor):
    """``matrix`` followed by resizing its output by ``factor``."""
    return (pixel_scale(factor) @ np.vstack([matrix, [0, 0, 1]]))[:2]
