"""68 generated landmarks per face (the iBUG 300-W order: jaw, brows, nose, eyes, mouth), for DIC's training tests:
a frontal layout on a 128x128 face, moved and scaled a little per face by a seeded generator."""
import numpy as np

from mrr_plugin.data.face_landmarks import write_landmarks


def ellipse(count, width, height):
    """``count`` points on an ellipse, clockwise from its left end."""
    angles = np.linspace(np.pi, -np.pi, count + 1)[:count]
    return np.stack([np.cos(angles) * width, np.sin(angles) * height], 1)


def frontal_layout():
    """(68, 2) points of a frontal face centred in a 128x128 image."""
    angles = np.linspace(np.pi, 0, 17)  # left ear, chin, right ear
    jaw = np.stack([64 + 40 * np.cos(angles), 60 + 42 * np.sin(angles)], 1)
    brows = np.concatenate([np.stack([np.linspace(34, 56, 5), [46, 43, 42, 43, 45]], 1),
                            np.stack([np.linspace(72, 94, 5), [45, 43, 42, 43, 46]], 1)])
    nose = np.concatenate([np.stack([[64] * 4, np.linspace(54, 74, 4)], 1),
                           np.stack([np.linspace(56, 72, 5), [80, 82, 83, 82, 80]], 1)])
    eye = ellipse(6, 8, 3)
    eyes = np.concatenate([eye + [45, 56], eye + [83, 56]])
    mouth = np.concatenate([ellipse(12, 16, 6) + [64, 96], ellipse(8, 10, 2) + [64, 96]])
    return np.concatenate([jaw, brows, nose, eyes, mouth]).astype(np.float64)


def write_generated_landmarks(path, names, seed=0, size=128):
    """A landmark file for the faces ``names``: the frontal layout, shifted by up to 3 px and scaled by 0.95-1.05."""
    rng = np.random.default_rng(seed)
    layout = frontal_layout() * (size / 128)
    centre = np.array([size / 2, size / 2])
    landmarks = {name: (layout - centre) * rng.uniform(0.95, 1.05) + centre + rng.uniform(-3, 3, 2) for name in names}
    write_landmarks(path, landmarks, size)
    return landmarks
