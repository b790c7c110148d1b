"""Restore the faces of a video steadily: a first pass detects faces every ``detect_every`` frames and links them
into tracks (:mod:`~mrr_plugin.restoration.face_tracks`); each track is routed once (the model that fits its face,
or left alone for its size or pose, as for photos), its crop transform interpolated and smoothed over time, and
checked once (left alone when its restored faces do not reproduce their inputs, over up to 16 of its frames); a second
pass restores the faces of ``batch_size`` frames per network call through :class:`FaceRestorer`, optionally blends
each track's restored face with its previous one in the crop frame (``temporal_weight``), pastes them back (fading
where a track starts or ends) and writes H.264 with the source's audio (:mod:`~mrr_plugin.restoration.video_io`).

``VideoRestorer(FaceRestorer.from_spec(...)).restore('clip.mp4', 'out.mp4')`` is the API; ``mrr-restore -i clip.mp4``
the command.
"""
from dataclasses import dataclass, field

import numpy as np

from mrr_plugin.restoration.face_alignment import face_matrix, footprint_box, upscaled_matrix
from mrr_plugin.restoration.face_tracks import link_tracks
from mrr_plugin.restoration.video_io import VideoWriter, read_frames, video_info

CHECK_FRAMES = 16  # frames per track restored by the plan's consistency check


def chunks(items, size):
    """Lists of ``size`` consecutive ``items`` (the last one shorter)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class VideoPlan:
    """The first pass: ``tracks`` restored (each with ``model``), ``left_alone`` tracks (each with ``reason``),
    ``frames`` (indices of the span), ``notes``."""
    tracks: list = field(default_factory=list)
    left_alone: list = field(default_factory=list)
    frames: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def leave(self, track, reason):
        """Leave ``track`` to the background upsampler, noting why."""
        track.reason = reason
        self.left_alone.append(track)
        self.notes.append(f'face track {track.number} (frames {track.frames[0]}-{track.frames[-1]}): {reason}.')

    def placements(self, frame):
        """``[(model, matrix, alpha, track number)]`` of the faces to restore in ``frame``."""
        return [(track.model, track.matrices[frame], track.alphas[frame], track.number) for track in self.tracks
                if frame in track.matrices and track.alphas[frame] > 0]


class VideoRestorer:
    """Args:
        restorer (FaceRestorer): detector, models, upscale, background and guards.
        detect_every (int): run the detector on every n-th frame (and the span's last); tracks in between.
        smooth (float): Gaussian sigma in frames of each track's crop transform over time (0: as detected).
        temporal_weight (float): in [0, 1); restored face = (1 - w) x this frame's + w x the previous blended one.
        fade (int): frames over which a track that starts or ends inside the clip fades in or out.
        fps (float): frame rate of a folder of frames given as the clip (videos keep their own).
    """

    def __init__(self, restorer, detect_every=1, smooth=2.0, temporal_weight=0.0, fade=5, fps=None):
        if restorer.aligned:
            raise ValueError('--aligned: a video is restored from whole frames; leave --aligned off.')
        if detect_every < 1 or smooth < 0 or fade < 0 or not 0 <= temporal_weight < 1:
            raise ValueError('--detect-every must be >= 1, --smooth and --fade >= 0, --temporal-weight in [0, 1).')
        self.restorer, self.detect_every, self.smooth = restorer, detect_every, smooth
        self.temporal_weight, self.fade, self.fps = temporal_weight, fade, fps

    def detect(self, path, start=0.0, end=None, progress=None):
        """``(detections, frames)``: ``{position: [DetectedFace]}`` every ``detect_every`` frames of the span (and its
        last frame) and the span's frame indices."""
        detections, frames, last = {}, [], None
        for index, _, frame in read_frames(path, start, end, self.fps):
            position = len(frames)
            frames.append(index)
            if position % self.detect_every == 0:
                detections[position] = self.restorer.detector(frame)
            last = (position, frame)
            if progress:
                progress(1)
        if last and last[0] not in detections:
            detections[last[0]] = self.restorer.detector(last[1])
        return detections, frames

    def plan(self, path, start=0.0, end=None, progress=None, detected=None):
        """The first pass over ``path`` (:class:`VideoPlan`); ``detected``: the result of :meth:`detect` to reuse."""
        detections, frames = detected or self.detect(path, start, end, progress)
        detections = {position: faces for position, faces in detections.items() if position % self.detect_every == 0
                      or position == len(frames) - 1}
        plan = VideoPlan(frames=list(frames))
        for track in link_tracks(detections):
            routed = sorted((self.restorer.route(detection) for detection in track.detections), key=lambda r: r[2])
            model, _, _, reason = routed[len(routed) // 2]  # as the track's median-sized face is routed
            if reason is not None:
                plan.leave(track, reason)
                continue
            track.model = model
            track.plan(lambda detection: face_matrix(detection, model.alignment, model.hr_size), model.hr_size,
                       self.smooth, self.fade, len(plan.frames))
            plan.tracks.append(track)
        if self.restorer.max_lr_error and plan.tracks:
            self._check_tracks(path, start, end, plan)
        return plan

    def _check_tracks(self, path, start, end, plan):
        """The consistency guard, decided once per track (a face checked frame by frame would blink on and off
        near the limit): up to ``CHECK_FRAMES`` frames spread over each track are restored from the crops the
        second pass will use, and a track whose median error exceeds ``max_lr_error`` is left alone."""
        samples = {}
        for track in plan.tracks:
            frames = sorted(track.matrices)
            for i in np.unique(np.linspace(0, len(frames) - 1, min(CHECK_FRAMES, len(frames))).astype(int)):
                samples.setdefault(frames[i], []).append((track.model, track.matrices[frames[i]], 1.0, track.number))
        errors = {track.number: [] for track in plan.tracks}
        sampled = ((position, frame) for position, (_, _, frame) in enumerate(read_frames(path, start, end, self.fps))
                   if position in samples)
        for chunk in chunks(sampled, 8):
            for result in self.restorer.restore_placed([frame for _, frame in chunk],
                                                       [samples[position] for position, _ in chunk], paste=False,
                                                       check=False):
                for face in result.faces:
                    errors[face.key].append(self.restorer.consistency_error(face))
        for track in list(plan.tracks):
            reason = self.restorer.inconsistency(float(np.median(errors[track.number])), track.model,
                                                 f' (median of {len(errors[track.number])} frames)')
            if reason:
                plan.tracks.remove(track)
                plan.leave(track, reason)

    def restore(self, path, output, plan=None, start=0.0, end=None, batch_size=8, frame_sink=None, meter=None,
                progress=None, audio=True, mask_plan=None):
        """The second pass: write the restored span of ``path`` to ``output`` (.mp4, with the source's audio when
        ``audio``), calling ``frame_sink(position, rgb)`` per frame if given and feeding ``meter`` (a
        :class:`~mrr_plugin.metrics.flicker_metric.FlickerMeter`) the faces' footprint under ``mask_plan`` (default
        ``plan``); returns the frame count."""
        plan = plan or self.plan(path, start, end)
        mask_plan = mask_plan or plan
        info = video_info(path, self.fps)
        writer = VideoWriter(output, info.fps, path if audio and info.audio else None, start, end)
        try:
            previous, written = {}, 0
            for chunk in chunks(enumerate(read_frames(path, start, end, self.fps)), batch_size):
                chunk = [(position, frame) for position, (_, _, frame) in chunk]
                written += self._restore_chunk(chunk, plan, previous, writer, frame_sink, meter, mask_plan, progress)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        return written

    def _restore_chunk(self, chunk, plan, previous, writer, frame_sink, meter, mask_plan, progress):
        results = self.restorer.restore_placed([frame for _, frame in chunk],
                                               [plan.placements(position) for position, _ in chunk], paste=False,
                                               check=False)  # decided per track in the plan
        for (position, frame), result in zip(chunk, results):
            if self.temporal_weight:
                for face in result.faces:
                    blended = face.restored.astype(np.float32)
                    if face.key in previous and previous[face.key][0] == position - 1:
                        blended = (1 - self.temporal_weight) * blended + self.temporal_weight * previous[face.key][1]
                    previous[face.key] = (position, blended)
                    face.restored = np.clip(np.round(blended), 0, 255).astype(np.uint8)
            self.restorer.paste_back(frame, result)
            writer.write(result.image)
            if frame_sink:
                frame_sink(position, result.image)
            if meter is not None:
                meter.update(frame, result.image, self.face_mask(mask_plan, position, result.image.shape))
            if progress:
                progress(1)
        return len(chunk)

    def face_mask(self, plan, position, shape):
        """Bool map of the output pixels the faces of ``position`` (restored tracks) can touch."""
        mask = np.zeros(shape[:2], bool)
        for track in plan.tracks:
            if position in track.matrices:
                matrix = upscaled_matrix(track.matrices[position], self.restorer.upscale)
                top, left, bottom, right = footprint_box(matrix, track.model.hr_size, shape, margin=0)
                mask[top:bottom, left:right] = True
        return mask
