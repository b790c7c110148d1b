"""Restoring faces in real photos with trained face-SR networks (detect, align, super-resolve, paste back)."""
from mrr_plugin.restoration.face_detectors import DETECTORS, DetectedFace, build_detector
from mrr_plugin.restoration.face_restorer import BackgroundUpsampler, FaceModel, FaceRestorer, RestoreResult

__all__ = ['DETECTORS', 'BackgroundUpsampler', 'DetectedFace', 'FaceModel', 'FaceRestorer', 'RestoreResult',
           'build_detector']
