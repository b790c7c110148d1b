"""Face-structure metrics: 68-landmark distance (MRRNet Table 2) and identity similarity (SPARNet Table I).

Networks from facexlib 0.3.0 (98-point AWing FAN alignment, converted to 68 points with facexlib's own helper;
ArcFace IR-SE50 recognition), built here on the requested device (facexlib's own loaders download weights and
force CUDA for recognition). Weights come from a local folder only (facexlib's file names).
"""
import os.path as osp

import cv2
import numpy as np
import torch
from basicsr.utils.registry import METRIC_REGISTRY

from mrr_plugin.utils import facexlib_weights
from mrr_plugin.utils.checkpoint_file import load_checkpoint

ALIGNMENT_FILE = 'alignment_WFLW_4HG.pth'
RECOGNITION_FILE = 'recognition_arcface_ir_se50.pth'
_MODELS = {}


def load_alignment(weights_dir, device='cpu'):
    """facexlib's 98-landmark FAN in eval mode (cached)."""
    path = facexlib_weights(weights_dir, ALIGNMENT_FILE, 'The landmark distance')
    key = ('alignment', osp.realpath(path), str(device))
    if key not in _MODELS:
        from facexlib.alignment import FAN
        model = FAN(num_modules=4, num_landmarks=98, device=str(device))
        model.load_state_dict(load_checkpoint(path)['state_dict'], strict=True)
        _MODELS[key] = model.eval().to(device)
    return _MODELS[key]


def load_recognition(weights_dir, device='cpu'):
    """facexlib's ArcFace IR-SE50 in eval mode (cached)."""
    path = facexlib_weights(weights_dir, RECOGNITION_FILE, 'The identity similarity')
    key = ('recognition', osp.realpath(path), str(device))
    if key not in _MODELS:
        from facexlib.recognition.arcface_arch import Backbone
        model = Backbone(num_layers=50, drop_ratio=0.6, mode='ir_se')
        model.load_state_dict(load_checkpoint(path), strict=True)
        _MODELS[key] = model.eval().to(device)
    return _MODELS[key]


def heatmap_peaks(heatmaps):
    """(N, K, H, W) heatmaps -> (N, K, 2) (x, y) peaks, moved a quarter pixel towards the higher neighbour.

    The usual FAN decoding (what facexlib's ``calculate_points`` does), written here because that function uses
    ``np.float`` (gone in numpy >= 1.24) and indexes past the map when a peak sits on its last pixel.
    """
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n * k, h * w)
    index = flat.argmax(axis=1)
    y, x = index // w, index % w
    maps = heatmaps.reshape(n * k, h, w)
    rows = np.arange(n * k)
    dx = maps[rows, y, np.minimum(x + 1, w - 1)] - maps[rows, y, np.maximum(x - 1, 0)]
    dy = maps[rows, np.minimum(y + 1, h - 1), x] - maps[rows, np.maximum(y - 1, 0), x]
    dx[(x == 0) | (x == w - 1)] = 0  # no shift where a neighbour is missing
    dy[(y == 0) | (y == h - 1)] = 0
    peaks = np.stack([x + 0.25 * np.sign(dx), y + 0.25 * np.sign(dy)], axis=1) + 0.5
    return peaks.reshape(n, k, 2)


def landmarks_68(rgb, weights_dir, device='cpu'):
    """68 (x, y) landmarks in pixels of an RGB uint8 face (98 AWing points -> 68 with facexlib's helper)."""
    from facexlib.alignment import landmark_98_to_68
    model = load_alignment(weights_dir, device)
    rgb = np.asarray(rgb)
    height, width = rgb.shape[:2]
    face = cv2.resize(rgb, (256, 256)).astype(np.float32).transpose(2, 0, 1) / 255.0  # FAN input: RGB, 256x256
    with torch.no_grad():
        outputs, _ = model(torch.from_numpy(face)[None].to(device))
    heatmaps = outputs[-1][:, :-1].cpu().numpy()  # last stack; drop the boundary channel
    points = heatmap_peaks(heatmaps)[0] * [width / heatmaps.shape[-1], height / heatmaps.shape[-2]]
    return np.asarray(landmark_98_to_68(points), dtype=np.float64)


def mean_landmark_distance(points, reference):
    """Average Euclidean distance (pixels) between corresponding landmarks of two (N, 2) arrays."""
    points, reference = np.asarray(points, np.float64), np.asarray(reference, np.float64)
    if points.shape != reference.shape or points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f'Landmark arrays must both be N x 2, got {points.shape} and {reference.shape}.')
    return float(np.linalg.norm(points - reference, axis=1).mean())


def identity_embedding(rgb_batch, weights_dir):
    """L2-normalised ArcFace embeddings of RGB faces (N, 3, H, W) in [0, 1], resized to 112x112."""
    model = load_recognition(weights_dir, rgb_batch.device)
    faces = torch.nn.functional.interpolate(rgb_batch.contiguous(), size=(112, 112), mode='bilinear').contiguous()
    with torch.no_grad():
        return torch.nn.functional.normalize(model(faces * 2 - 1), dim=1)


def cosine_similarity(a, b):
    """Row-wise cosine similarity of two (N, D) embedding batches."""
    return torch.nn.functional.cosine_similarity(a, b, dim=1)


def _rgb(img, channel_order):
    img = np.asarray(img)
    return img[..., ::-1] if channel_order == 'bgr' else img


@METRIC_REGISTRY.register()
def calculate_landmark_distance(img, img2, weights_dir=None, channel_order='bgr', device='cpu', **kwargs):
    """Mean 68-landmark distance (pixels) between an SR face and its HR face; lower is better."""
    rgb, rgb2 = _rgb(img, channel_order), _rgb(img2, channel_order)
    return mean_landmark_distance(landmarks_68(rgb.astype(np.uint8), weights_dir, device),
                                  landmarks_68(rgb2.astype(np.uint8), weights_dir, device))


@METRIC_REGISTRY.register()
def calculate_identity_similarity(img, img2, weights_dir=None, channel_order='bgr', device='cpu', **kwargs):
    """Cosine similarity of ArcFace embeddings of an SR face and its HR face; higher is better."""
    batch = torch.from_numpy(np.stack([_rgb(img, channel_order), _rgb(img2, channel_order)]).astype(np.float32))
    embeddings = identity_embedding(batch.permute(0, 3, 1, 2).contiguous().to(device) / 255.0, weights_dir)
    return float(cosine_similarity(embeddings[:1], embeddings[1:])[0])
