"""Face detectors for restoring photos: each returns :class:`DetectedFace` rows, most confident first.

- ``mtcnn`` (default): MTCNN (Zhang et al., SPL 2016) from the ``facenet-pytorch`` wheel on PyPI, whose 2 MB of
  P/R/O-Net weights ship inside the package: works offline out of the box, boxes + 5 landmarks.
- ``retinaface``: facexlib's RetinaFace-R50 (GFPGAN/CodeFormer's detector), weights from ``--weights-dir`` only.
- ``lbp``: scikit-image's LBP frontal-face cascade (boxes only; kept as the dependency-free fallback).

Measured on this project's 600 real CelebA dev faces pasted at 48-128 px into scikit-image photos (README
"Restore your photos"): MTCNN found all of them with no false detection at 0.04 s a photo; the LBP cascade missed
8-12 % with 0.03-0.4 false detections a photo at 0.35 s a photo. Landmarks are always left eye, right eye, nose,
left and right mouth corner (as seen in the image).
"""
import numpy as np
import torch

from mrr_plugin.data.face_geometry import DetectedFace, corners
from mrr_plugin.preparation.face_detection import detect_faces, load_retinaface

DETECTORS = ('mtcnn', 'retinaface', 'lbp')


def _sorted(faces):
    return sorted(faces, key=lambda face: -face.score)


class MTCNNDetector:
    """facenet-pytorch's MTCNN with its packaged weights (torch >= 2.6 loads them with ``weights_only=True``)."""

    def __init__(self, device='cpu', threshold=0.9, min_face_size=16):
        try:
            from facenet_pytorch.models.mtcnn import MTCNN
        except ImportError as error:
            raise FileNotFoundError('the mtcnn detector needs the facenet-pytorch package: run `pip install --no-deps '
                                    'facenet-pytorch==2.6.0` (scripts/setup_env.sh does).') from error
        self.threshold = threshold
        self.model = MTCNN(keep_all=True, min_face_size=min_face_size, device=torch.device(device)).eval()

    def __call__(self, image):
        with torch.no_grad():
            boxes, scores, landmarks = self.model.detect(image, landmarks=True)
        if boxes is None:
            return []
        return _sorted(
            DetectedFace(tuple(float(v) for v in box), np.asarray(points, np.float64).reshape(5, 2), float(score))
            for box, score, points in zip(boxes, scores, landmarks) if score >= self.threshold)


class RetinaFaceDetector:
    """facexlib's RetinaFace-R50 (``detection_Resnet50_Final.pth`` in ``weights_dir``; never downloaded)."""

    def __init__(self, weights_dir, device='cpu', threshold=0.8):
        self.model, self.threshold = load_retinaface(weights_dir, device), threshold

    def __call__(self, image):
        return _sorted(detect_faces(self.model, image, self.threshold))


class LBPCascadeDetector:
    """scikit-image's LBP frontal-face cascade (OpenCV's ``lbpcascade_frontalface``); boxes only, score 1."""

    def __init__(self, min_face_size=20, scale_factor=1.2, min_neighbours=4):
        from skimage import data, feature
        self.cascade = feature.Cascade(data.lbp_frontal_face_cascade_filename())
        self.min_size, self.scale_factor, self.min_neighbours = min_face_size, scale_factor, min_neighbours

    def __call__(self, image):
        image = np.asarray(image)
        rows = self.cascade.detect_multi_scale(img=image, scale_factor=self.scale_factor, step_ratio=1,
                                               min_size=(self.min_size, self.min_size),
                                               max_size=image.shape[:2], min_neighbor_number=self.min_neighbours)
        return _sorted(DetectedFace(corners(r['c'], r['r'], r['width'], r['height'])) for r in rows)


def build_detector(name='mtcnn', weights_dir=None, device='cpu', min_face_size=16):
    """One of :data:`DETECTORS`; FileNotFoundError with one sentence when its weights or package are missing."""
    if name == 'mtcnn':
        return MTCNNDetector(device, min_face_size=min_face_size)
    if name == 'retinaface':
        return RetinaFaceDetector(weights_dir, device)
    if name == 'lbp':
        return LBPCascadeDetector(max(min_face_size, 20))
    raise ValueError(f'--detector {name}: known detectors are {", ".join(DETECTORS)}.')
