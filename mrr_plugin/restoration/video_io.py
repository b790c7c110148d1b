"""Read and write videos with PyAV (FFmpeg's libraries inside the PyPI wheel: nothing from outside the registry).

Frames are RGB uint8 arrays. :func:`write_video` writes H.264 (yuv420p) at the source's frame rate and carries the
source's audio over (re-encoded to AAC, cut to the same span), into a temporary file moved into place at the end, so
a failed or interrupted write leaves nothing behind.
"""
import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from os import path as osp

import numpy as np

from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.data.image_folder import list_images

VIDEO_EXTENSIONS = ('.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v', '.mpg', '.mpeg')


class VideoError(ValueError):
    """A video that cannot be read or written; the message is one line naming the file."""


def is_video_path(path):
    return osp.splitext(str(path))[1].lower() in VIDEO_EXTENSIONS


def _av():
    try:
        import av
    except ImportError as error:
        raise VideoError('restoring video needs the PyAV package: run `pip install av` (scripts/setup_env.sh '
                         'does).') from error
    return av


@dataclass
class VideoInfo:
    """``fps`` (Fraction), ``frames`` (the container's count, 0 when it does not say) and ``audio`` (whether there
    is an audio stream)."""
    fps: Fraction
    frames: int
    audio: bool

    def span_frames(self, start=0.0, end=None):
        """About how many frames lie in ``start <= seconds < end`` (None when the container does not say)."""
        if not self.frames:
            return None
        last = self.frames if end is None else min(self.frames, math.ceil(end * self.fps))
        return max(0, last - math.ceil(start * self.fps))


def _open(path):
    av = _av()
    if not osp.isfile(path):
        raise VideoError(f'{path}: no such video file.')
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise VideoError(f'{path}: cannot be read as a video ({type(error).__name__}: '
                         f'{str(error).splitlines()[0][:160] if str(error) else "no message"}).') from error
    if not container.streams.video:
        container.close()
        raise VideoError(f'{path}: has no video stream.')
    return container


def _frame_files(folder):
    names = list_images(folder)
    if not names:
        raise VideoError(f'{folder}: no image frames in this folder.')
    return [osp.join(folder, name) for name in names]


def _frame_folder_frames(folder, fps, start, end):
    for index, path in enumerate(_frame_files(folder)):
        seconds = index / float(fps)
        if end is not None and seconds >= end:
            return
        if seconds >= start:
            try:
                yield index, seconds, np.asarray(read_image(path))
            except BadImageError as error:
                raise VideoError(f'{folder}: frame {error}') from error


def video_info(path, fps=None):
    """:class:`VideoInfo` of a readable video, or of a folder of frames (sorted by name) at ``fps`` (default 25);
    :class:`VideoError` otherwise."""
    if osp.isdir(path):
        return VideoInfo(Fraction(fps or 25).limit_denominator(100000), len(_frame_files(path)), False)
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        return VideoInfo(Fraction(fps), int(stream.frames or 0), bool(container.streams.audio))


def upright(frame):
    """RGB array of a decoded PyAV ``frame`` as it is shown: turned by the rotation of the container's display
    matrix (phones record portrait clips as landscape frames plus "rotate 90 degrees", which players apply and
    ``to_ndarray`` does not). ``frame.rotation`` is counter-clockwise degrees, as is ``np.rot90``; the display
    matrix's mirroring, which cameras do not write, is not applied."""
    rgb = frame.to_ndarray(format='rgb24')
    turns = round(frame.rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def read_frames(path, start=0.0, end=None, fps=None):
    """Yield ``(index, seconds, rgb)`` of the frames with ``start <= seconds < end``, from a video (turned
    :func:`upright`) or a folder of frames at ``fps``. A stream that breaks off, or ends before the frame count its
    container declares (a truncated file), or a frame file that cannot be read raises :class:`VideoError`."""
    if osp.isdir(path):
        yield from _frame_folder_frames(path, fps or 25, start, end)
        return
    av = _av()
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = 'AUTO'
        declared, index, stopped = int(stream.frames or 0), 0, False
        try:
            for frame in container.decode(stream):
                seconds = float(frame.time) if frame.time is not None else index / float(stream.average_rate or 25)
                if end is not None and seconds >= end:
                    stopped = True
                    break
                if seconds >= start:
                    yield index, seconds, upright(frame)
                index += 1
        except av.FFmpegError as error:
            raise VideoError(f'{path}: the video stream breaks off after frame {index} ({type(error).__name__}); '
                             'is the file truncated?') from error
        if not stopped and declared and declared - index > max(2, declared // 100):  # edit lists may drop a few
            raise VideoError(f'{path}: only {index} of the {declared} frames it declares can be decoded; is the file '
                             'truncated?')


def _audio_encoder(source, output):
    """An AAC stream in ``output`` for the first audio stream of ``source`` (None without audio); made before the
    first packet is written, as the container's header needs it."""
    av = _av()
    with av.open(source) as container:
        if not container.streams.audio:
            return None
        audio = container.streams.audio[0]
        encoder = output.add_stream('aac', rate=audio.rate or 44100)
        encoder.layout = audio.layout.name if audio.layout else 'stereo'
        return encoder


def _write_audio(source, output, encoder, start, end):
    """Re-encode ``source``'s first audio stream between ``start`` and ``end`` seconds through ``encoder``."""
    av = _av()
    with av.open(source) as container:
        for frame in container.decode(container.streams.audio[0]):
            if frame.time is None or frame.time < start or (end is not None and frame.time >= end):
                continue
            frame.pts = None
            for packet in encoder.encode(frame):
                output.mux(packet)
        for packet in encoder.encode(None):
            output.mux(packet)


class VideoWriter:
    """H.264 writer into a temporary file beside ``path``; :meth:`close` adds the audio of ``audio_source`` (the
    span ``start``-``end`` seconds) and moves the file into place; :meth:`abort` removes it.
    Frames go in through :meth:`write` (RGB uint8, all the same size; odd sizes are cut by one pixel for yuv420p)."""

    def __init__(self, path, fps, audio_source=None, start=0.0, end=None, crf=18):
        av = _av()
        folder = osp.dirname(osp.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
            handle, self.temporary = tempfile.mkstemp(suffix='.mp4', prefix='.partial_', dir=folder)
            os.close(handle)
        except OSError as error:
            raise VideoError(f'{path}: cannot be written ({error.strerror or error}).') from error
        self.path, self.fps, self.audio_source, self.span = path, Fraction(fps).limit_denominator(100000), \
            audio_source, (start, end)
        self.container = av.open(self.temporary, 'w', format='mp4')
        self.stream, self.audio, self.crf, self.frames = None, None, crf, 0

    def write(self, rgb):
        av = _av()
        if self.stream is None:
            height, width = rgb.shape[:2]
            self.stream = self.container.add_stream('libx264', rate=self.fps)
            self.stream.width, self.stream.height = width - width % 2, height - height % 2
            self.stream.pix_fmt = 'yuv420p'
            self.stream.options = {'crf': str(self.crf)}
            if self.audio_source:
                self.audio = _audio_encoder(self.audio_source, self.container)
        rgb = np.ascontiguousarray(rgb[:self.stream.height, :self.stream.width])
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(rgb, format='rgb24')):
            self.container.mux(packet)
        self.frames += 1

    def close(self):
        try:
            if self.stream is not None:
                for packet in self.stream.encode(None):
                    self.container.mux(packet)
            if self.audio is not None:
                _write_audio(self.audio_source, self.container, self.audio, *self.span)
            self.container.close()
            os.replace(self.temporary, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self):
        try:
            self.container.close()
        except Exception:  # noqa: BLE001  (already failing: only the partial file matters)
            pass
        if osp.exists(self.temporary):
            os.remove(self.temporary)
