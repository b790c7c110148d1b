"""Procedurally drawn cartoon faces: the demo's built-in data when no real face folder is given.

They are NOT faces from any dataset and numbers measured on them say nothing about face SR; they only let the
demo and the tests run end to end on a fresh clone (real faces: pass a CelebA-style folder instead).
Each face: skin-toned ellipse on a textured background, hair, eyes with iris and pupil, brows, nose, mouth,
smooth shading and mild noise, so that x8 bicubic loses detail a network can learn to restore.
"""
import os
from os import path as osp

import cv2
import numpy as np


def draw_synthetic_face(rng, size=128):
    """One RGB uint8 face of ``size`` x ``size`` drawn with the generator ``rng`` (``np.random.Generator``)."""
    s = size / 128.0
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = rng.uniform(40, 220, 3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    canvas += (np.sin(xx / rng.uniform(3, 9)) * np.cos(yy / rng.uniform(3, 9)))[..., None] * rng.uniform(5, 25)

    center = (int(size / 2 + rng.uniform(-6, 6) * s), int(size / 2 + rng.uniform(0, 8) * s))
    axes = (int(rng.uniform(34, 42) * s), int(rng.uniform(44, 52) * s))
    skin = np.array([rng.uniform(90, 200), rng.uniform(120, 210), rng.uniform(160, 240)], np.float32)  # BGR-ish
    hair = rng.uniform(10, 120, 3)
    cv2.ellipse(canvas, (center[0], center[1] - int(12 * s)), (axes[0] + int(6 * s), axes[1]), 0, 180, 360,
                hair.tolist(), -1)
    cv2.ellipse(canvas, center, axes, 0, 0, 360, skin.tolist(), -1)

    eye_y = center[1] - int(rng.uniform(6, 12) * s)
    eye_dx = int(rng.uniform(13, 18) * s)
    iris = rng.uniform(20, 160, 3).tolist()
    for side in (-1, 1):
        eye = (center[0] + side * eye_dx, eye_y)
        cv2.ellipse(canvas, eye, (int(7 * s), int(4 * s)), 0, 0, 360, (245, 245, 245), -1)
        cv2.circle(canvas, eye, max(1, int(3 * s)), iris, -1)
        cv2.circle(canvas, eye, max(1, int(1.5 * s)), (15, 15, 15), -1)
        brow_y = eye_y - int(rng.uniform(7, 10) * s)
        cv2.line(canvas, (eye[0] - int(7 * s), brow_y), (eye[0] + int(7 * s), brow_y - side), hair.tolist(),
                 max(1, int(2 * s)))
    nose_top, nose_tip = (center[0], eye_y + int(4 * s)), (center[0] + int(rng.uniform(-2, 2) * s), eye_y + int(20 * s))
    cv2.line(canvas, nose_top, nose_tip, (skin * 0.7).tolist(), max(1, int(2 * s)))
    mouth_y = center[1] + int(rng.uniform(18, 26) * s)
    cv2.ellipse(canvas, (center[0], mouth_y), (int(rng.uniform(8, 14) * s), int(rng.uniform(2, 6) * s)), 0, 0, 180,
                rng.uniform(30, 120, 3).tolist(), max(1, int(2 * s)))

    shade = 1.0 - 0.25 * ((xx - center[0]) / size * rng.uniform(-1, 1))[..., None]
    canvas = cv2.GaussianBlur(canvas * shade, (0, 0), 0.6 * s) + rng.normal(0, 2.0, canvas.shape)
    return cv2.cvtColor(np.clip(canvas, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB)


def write_synthetic_faces(folder, count, size=128, seed=0):
    """Write ``count`` faces as ``<folder>/synthetic_00000.png ...`` (reproducible from ``seed``); returns paths."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = osp.join(folder, f'synthetic_{index:05d}.png')
        cv2.imwrite(path, cv2.cvtColor(draw_synthetic_face(rng, size), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths
