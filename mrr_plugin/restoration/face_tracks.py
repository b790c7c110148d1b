"""Faces followed through a video: detections linked into tracks by their boxes' positions, each track's crop transform
interpolated between detections and smoothed over time, and faded in and out where a track starts or ends inside
the clip, so the pasted face neither jitters with the detector's pixel noise nor pops.

The clip is processed offline (a first pass detects every ``detect_every`` frames, a second restores), so smoothing
is a zero-lag Gaussian filter over the whole track rather than an online one-euro filter. A crop transform (photo
-> crop, 2x3) is smoothed as (x, y, log scale, angle) of the photo point at the crop's centre, which a rotation-free
DIC crop keeps at angle 0.
"""
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from mrr_plugin.data.face_geometry import matrix_scale


@dataclass
class FaceTrack:
    """One face through the clip: ``frames`` (indices where it was detected) and their ``detections``; after
    :meth:`plan`, ``matrices`` and ``alphas`` for every frame from the first to the last detection; the ``model``
    it goes to, or the ``reason`` it is left alone."""
    number: int
    frames: list = field(default_factory=list)
    detections: list = field(default_factory=list)
    matrices: dict = field(default_factory=dict)
    alphas: dict = field(default_factory=dict)
    model: object = None
    reason: str = None

    def plan(self, matrix_of, size, smooth=0.0, fade=0, clip_frames=None):
        """Crop matrices for every frame of the track: ``matrix_of(detection)`` at the detected frames, interpolated
        in between, Gaussian-smoothed over ``smooth`` frames (sigma; 0: as detected) and faded over ``fade`` frames
        at an end that lies inside the clip (``clip_frames``: its frame count)."""
        params = np.array([transform_params(matrix_of(d), size) for d in self.detections])
        every = np.arange(self.frames[0], self.frames[-1] + 1)
        track = np.stack([np.interp(every, self.frames, params[:, k]) for k in range(4)], 1)
        if smooth > 0 and len(every) > 1:
            track = smooth_series(track, smooth)
        first, last = every[0], every[-1]
        for frame, row in zip(every, track):
            self.matrices[int(frame)] = params_matrix(row, size)
            alpha = 1.0
            if fade and first > 0:
                alpha = min(alpha, (frame - first + 1) / (fade + 1))
            if fade and (clip_frames is None or last < clip_frames - 1):
                alpha = min(alpha, (last - frame + 1) / (fade + 1))
            self.alphas[int(frame)] = float(alpha)
        return self


def smooth_series(values, sigma):
    """Gaussian filter (``sigma`` frames) along axis 0, with the series continued past each end by point reflection
    about the end value, so a face moving steadily at a clip's end is not pulled back towards where it was."""
    pad = min(int(np.ceil(3 * sigma)), len(values) - 1)
    head = 2 * values[:1] - values[pad:0:-1]
    tail = 2 * values[-1:] - values[-2:-pad - 2:-1]
    extended = np.concatenate([head, values, tail])
    return gaussian_filter1d(extended, sigma, axis=0, mode='nearest')[pad:pad + len(values)]


def transform_params(matrix, size):
    """(x, y, log scale, angle) of a photo -> ``size`` crop matrix: the photo point at the crop's centre."""
    matrix = np.asarray(matrix, np.float64)
    centre = np.full(2, size / 2 - 0.5)
    x, y = cv2.invertAffineTransform(matrix) @ np.append(centre, 1)
    return np.array([x, y, np.log(matrix_scale(matrix)), np.arctan2(matrix[1, 0], matrix[0, 0])])


def params_matrix(params, size):
    """The photo -> ``size`` crop matrix of (x, y, log scale, angle) (inverse of :func:`transform_params`)."""
    x, y, log_scale, angle = params
    scale = np.exp(log_scale)
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.full(2, size / 2 - 0.5)
    return np.hstack([linear, (centre - linear @ np.array([x, y]))[:, None]])


def predicted_box(track, frame):
    """The box of ``track`` at ``frame``, moved on from its last detection at the velocity of its last two."""
    last = np.asarray(track.detections[-1].box, np.float64)
    if len(track.frames) < 2:
        return last
    before = np.asarray(track.detections[-2].box, np.float64)
    velocity = (last - before) / (track.frames[-1] - track.frames[-2])
    return last + velocity * (frame - track.frames[-1])


def box_distance(a, b):
    """Distance of two boxes' centres in units of their larger side; infinite when their sides differ by more than
    1.5x (not the same face)."""
    side_a, side_b = max(a[2] - a[0], a[3] - a[1]), max(b[2] - b[0], b[3] - b[1])
    if min(side_a, side_b) <= 0 or max(side_a, side_b) > 1.5 * min(side_a, side_b):
        return np.inf
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2) / max(side_a, side_b))


def link_tracks(detections, max_shift=1.0, max_missed=1):
    """Tracks from ``{frame: [DetectedFace, ...]}`` (the frames where detection ran, in order): each detection
    joins the live track whose box, moved on at the track's last velocity (:func:`predicted_box`), is nearest
    (:func:`box_distance` <= ``max_shift`` face sides; greedy, nearest pairs first), else starts a track; a track
    not found in more than ``max_missed`` detection rounds in a row ends."""
    tracks, live = [], []  # live: [track, rounds missed]
    for frame in sorted(detections):
        faces = detections[frame]
        pairs = sorted((box_distance(predicted_box(entry[0], frame), face.box), t, f)
                       for t, entry in enumerate(live) for f, face in enumerate(faces))
        taken_tracks, taken_faces = set(), set()
        for distance, t, f in pairs:
            if distance > max_shift or t in taken_tracks or f in taken_faces:
                continue
            live[t][0].frames.append(frame)
            live[t][0].detections.append(faces[f])
            live[t][1] = 0
            taken_tracks.add(t)
            taken_faces.add(f)
        for t, entry in enumerate(live):
            if t not in taken_tracks:
                entry[1] += 1
        live = [entry for entry in live if entry[1] <= max_missed]
        for f, face in enumerate(faces):
            if f not in taken_faces:
                track = FaceTrack(len(tracks), [frame], [face])
                tracks.append(track)
                live.append([track, 0])
    return tracks
