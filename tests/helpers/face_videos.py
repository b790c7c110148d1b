"""Test clips: the real face of scikit-image's astronaut moved along a known path and scaled over the frames of a
scikit-image photograph, encoded with PyAV (H.264, with a 440 Hz AAC tone as its audio), and a stand-in network
that adds detail fixed in the crop frame (as a trained network's prior does), so that a jittering crop shows as
flicker."""
import av
import cv2
import numpy as np
import torch
from PIL import Image

from tests.helpers.face_photos import background

FPS = 25


def face_path(frame, frames):
    """``(centre x, centre y, crop side)`` of the face in ``frame``: along a curve, from a 44-px to a 60-px crop."""
    t = frame / max(frames - 1, 1)
    return 90 + 140 * t, 120 + 25 * np.sin(2 * np.pi * t), 44 + 16 * t


def face_frames(face_png, frames=60, size=(320, 240), photo='chelsea'):
    """RGB frames with the 128x128 DIC-style face crop ``face_png`` warped (sub-pixel) to :func:`face_path`."""
    face = np.asarray(Image.open(face_png).convert('RGB'))
    scene = background(photo, size)
    out = []
    for frame in range(frames):
        x, y, side = face_path(frame, frames)
        scale = side / 128
        matrix = np.array([[scale, 0, x - scale * 63.5], [0, scale, y - scale * 63.5]])
        warped = cv2.warpAffine(face, matrix, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        inside = cv2.warpAffine(np.ones((128, 128), np.float32), matrix, size, flags=cv2.INTER_LINEAR)[..., None]
        out.append(np.clip(inside * warped + (1 - inside) * scene, 0, 255).astype(np.uint8))
    return out


def write_clip(path, frames, audio=True, fps=FPS, rotation=0):
    """Encode ``frames`` as H.264 into ``path`` with a 440 Hz tone as long as the clip; ``rotation``: store them
    turned clockwise by that many degrees with a display matrix that turns them back (as phones record portrait)."""
    turns = rotation // 90
    frames = [np.ascontiguousarray(np.rot90(frame, -turns)) for frame in frames]
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        if rotation:
            stream.set_display_rotation(rotation)
        stream.pix_fmt = 'yuv420p'
        stream.options = {'crf': '12'}
        sound = container.add_stream('aac', rate=44100) if audio else None
        if sound is not None:
            sound.layout = 'mono'
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = int(44100 * len(frames) / fps)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format='flt', layout='mono')
                chunk.sample_rate = 44100
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return str(path)


def decoded(path):
    """``(frames, fps, audio seconds)`` of a video file, decoded again."""
    with av.open(str(path)) as container:
        fps = float(container.streams.video[0].average_rate)
        frames = [frame.to_ndarray(format='rgb24') for frame in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0)) \
            if container.streams.audio else 0.0
    return frames, fps, audio


class DetailFace(torch.nn.Module):
    """A stand-in x8 face network: bicubic upscaling plus a fixed fine pattern in the crop frame (zero-mean at the
    input's scale, so the restored face still reproduces its input), as a trained network adds a prior's detail."""

    def __init__(self, in_size=128, upscale=8, strength=0.12):
        super().__init__()
        self.in_size, self.upscale = in_size, upscale
        generator = torch.Generator().manual_seed(0)
        pattern = torch.rand(1, 1, in_size, in_size, generator=generator) - 0.5
        pattern = pattern - torch.nn.functional.avg_pool2d(pattern, upscale).repeat_interleave(
            upscale, 2).repeat_interleave(upscale, 3)
        self.register_buffer('pattern', strength * pattern)

    def forward(self, x):
        up = torch.nn.functional.interpolate(x, scale_factor=self.upscale, mode='bicubic')
        return (up + self.pattern).clamp(0, 1)
