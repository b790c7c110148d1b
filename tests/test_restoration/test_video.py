"""Restoring video: the real face of scikit-image's astronaut moved along a known path and scaled over 60 frames of
a scikit-image photograph (tests/helpers/face_videos.py), encoded with PyAV with a tone as its audio."""
import os

import av
import numpy as np
import pytest
import torch
from PIL import Image

from mrr_plugin.archs.mrrnet_arch import MRRNet
from mrr_plugin.metrics.flicker_metric import FlickerMeter
from mrr_plugin.restoration import FaceModel, FaceRestorer, build_detector
from mrr_plugin.restoration.face_tracks import transform_params
from mrr_plugin.restoration.video_io import VideoWriter, read_frames
from mrr_plugin.restoration.video_restorer import VideoPlan, VideoRestorer
from tests.helpers.face_photos import write_astronaut_faces
from tests.helpers.face_videos import FPS, DetailFace, decoded, face_frames, face_path, write_clip
from tests.test_restoration.test_restore_cli import run_restore

FRAMES = 60


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp('clip')
    return write_clip(folder / 'walk.mp4', face_frames(write_astronaut_faces(folder)[0], FRAMES))


@pytest.fixture(scope='module')
def restorer():
    """A 32-px-input stand-in network with a fixed fine detail in its crop frame (the 41-58 px faces fit it)."""
    return FaceRestorer(FaceModel.from_network(DetailFace(256)), build_detector('mtcnn'), upscale=2)


@pytest.fixture(scope='module')
def detected(clip, restorer):
    return VideoRestorer(restorer).detect(clip)


def centres(plan):
    (track,) = plan.tracks
    return np.array([transform_params(track.matrices[frame], track.model.hr_size)[:2] for frame in range(FRAMES)])


def test_the_track_holds_the_face_and_smoothing_steadies_the_crop(clip, restorer, detected):
    per_frame = VideoRestorer(restorer, smooth=0, fade=0).plan(clip, detected=detected)
    smoothed = VideoRestorer(restorer, smooth=2, fade=0).plan(clip, detected=detected)
    assert len(per_frame.tracks) == 1 and per_frame.left_alone == [] and len(per_frame.frames) == FRAMES
    truth = np.array([face_path(frame, FRAMES)[:2] for frame in range(FRAMES)])
    for plan in (per_frame, smoothed):
        error = np.hypot(*(centres(plan) - truth).T)
        assert error.max() < 5, error.max()  # the DIC crop centre on the face's path (1.6, 2.4 px off on average)
    jitter = [np.diff(centres(plan), 2, axis=0).std() for plan in (per_frame, smoothed)]
    assert jitter[1] < 0.5 * jitter[0], jitter  # measured 0.53 -> 0.17 px
    sparse = VideoRestorer(restorer, detect_every=5, smooth=0, fade=0).plan(clip, detected=detected)
    assert np.hypot(*(centres(sparse) - truth).T).max() < 6  # interpolated between every 5th frame


def test_smoothing_lowers_the_flicker_of_per_frame_restoration(clip, restorer, detected, tmp_path):
    per_frame = VideoRestorer(restorer, smooth=0, fade=0)
    steady = VideoRestorer(restorer, smooth=2, fade=0)
    blended = VideoRestorer(restorer, smooth=2, fade=0, temporal_weight=0.5)
    region = steady.plan(clip, detected=detected)
    flicker = {}
    for name, video, plan in (('bicubic', steady, VideoPlan(frames=region.frames)),
                              ('per-frame', per_frame, per_frame.plan(clip, detected=detected)),
                              ('smoothed', steady, region),
                              ('blended', blended, blended.plan(clip, detected=detected))):
        meter = FlickerMeter()
        assert video.restore(clip, str(tmp_path / f'{name}.mp4'), plan, meter=meter, mask_plan=region) == FRAMES
        flicker[name] = meter.value
    assert flicker['bicubic'] < flicker['smoothed'] < flicker['per-frame'], flicker  # 6.03 < 7.69 < 8.10
    assert flicker['blended'] < flicker['smoothed'], flicker  # 7.48


def test_fading_track_ends_and_frame_count_audio_and_rate_survive(clip, restorer, tmp_path):
    half = VideoRestorer(restorer, fade=5)
    plan = half.plan(clip, 0.0, 1.2)
    (track,) = plan.tracks
    assert len(plan.frames) == 30 and track.alphas[0] == 1 and track.alphas[29] == 1  # the clip's ends: no fade
    out = tmp_path / 'out.mp4'
    frames_seen = []
    assert half.restore(clip, str(out), plan, 0.0, 1.2, batch_size=4,
                        frame_sink=lambda position, image: frames_seen.append(position)) == 30
    frames, fps, audio = decoded(out)
    assert len(frames) == 30 and frames[0].shape == (480, 640, 3) and fps == FPS and frames_seen == list(range(30))
    assert abs(audio - 1.2) < 0.1  # the tone of the same span
    track.frames = [5, 20]  # as if the face came in at frame 5 and left after frame 20
    track.detections = [track.detections[5], track.detections[20]]
    track.matrices, track.alphas = {}, {}
    track.plan(lambda d: restorer.route(d)[1], track.model.hr_size, 2, 5, len(plan.frames))
    assert [round(track.alphas[f], 2) for f in (5, 6, 10, 15, 20)] == [0.17, 0.33, 1, 1, 0.17]
    assert 4 not in track.alphas and 21 not in track.alphas


def test_the_command_restores_a_clip_with_its_audio(clip, tmp_path, capsys):
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    code, log = run_restore(capsys, '-i', clip, '-o', str(tmp_path / 'out'), '--model',
                            f'{tmp_path / "net_g.pth"}@MRRNet', '--start', '0.4', '--end', '1.6', '--save-frames',
                            '--batch-size', '4', '--detect-every', '2')
    assert code == 0, log
    assert 'walk.mp4: 30 frames, 1 face track(s) restored, 0 left as they were' in log
    assert '1 video(s) restored' in log
    frames, fps, audio = decoded(tmp_path / 'out' / 'restored_videos' / 'walk.mp4')
    assert len(frames) == 30 and fps == FPS and abs(audio - 1.2) < 0.1
    saved = sorted(os.listdir(tmp_path / 'out' / 'restored_frames' / 'walk'))
    assert len(saved) == 30 and Image.open(tmp_path / 'out' / 'restored_frames' / 'walk' / saved[0]).size == (640, 480)
    source = [frame for _, _, frame in read_frames(clip, 0.4, 1.6)]
    assert np.abs(frames[0].astype(int) - np.asarray(Image.fromarray(source[0]).resize((640, 480))).astype(
        int)).mean() > 1  # a face was pasted

    code, log = run_restore(capsys, '-i', clip, '--model', f'{tmp_path / "net_g.pth"}@MRRNet', '--benchmark',
                            '--end', '1.0')
    assert code == 0 and log.count('| ') >= 4 and 'per-frame restoration' in log and 'vs bicubic' in log


def test_a_phone_clip_recorded_sideways_is_restored_upright(tmp_path, capsys):
    """Phones store portrait clips as sideways frames plus a display rotation: the faces are found upright and the
    restored video is written upright (players would show the raw frames turned otherwise)."""
    upright = face_frames(write_astronaut_faces(tmp_path)[0], 20)
    clip = write_clip(tmp_path / 'phone.mp4', upright, audio=False, rotation=90)
    with av.open(clip) as container:
        assert container.streams.video[0].codec_context.height == 320  # stored sideways
    for rotation in (90, 180, 270):
        frames = [frame for _, _, frame in read_frames(write_clip(tmp_path / f'turned{rotation}.mp4', upright[:5],
                                                                  audio=False, rotation=rotation))]
        assert len(frames) == 5 and frames[0].shape == (240, 320, 3)
        assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(frames, upright)) < 3
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    code, log = run_restore(capsys, '-i', clip, '-o', str(tmp_path / 'out'), '--model',
                            f'{tmp_path / "net_g.pth"}@MRRNet', '--upscale', '1')
    assert code == 0 and 'phone.mp4: 20 frames, 1 face track(s) restored' in log, log
    restored, _, _ = decoded(tmp_path / 'out' / 'restored_videos' / 'phone.mp4')
    assert len(restored) == 20 and restored[0].shape == (240, 320, 3)


def write_audio_only(path):
    with av.open(str(path), 'w') as container:
        sound = container.add_stream('aac', rate=44100)
        sound.layout = 'mono'
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='flt', layout='mono')
        frame.sample_rate = 44100
        for packet in [*sound.encode(frame), *sound.encode(None)]:
            container.mux(packet)


def test_bad_videos_are_one_line_each_and_leave_nothing(clip, tmp_path, capsys):
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    videos = tmp_path / 'videos'
    videos.mkdir()
    (videos / 'noise.mp4').write_bytes(os.urandom(5000))
    data = open(clip, 'rb').read()
    (videos / 'cut.mp4').write_bytes(data[:len(data) // 2])  # moov atom at the end: lost
    with av.open(str(videos / 'faststart.mp4'), 'w', options={'movflags': 'faststart'}) as container:
        with av.open(clip) as source:
            stream = container.add_stream_from_template(source.streams.video[0])
            for packet in source.demux(source.streams.video[0]):
                if packet.dts is not None:
                    packet.stream = stream
                    container.mux(packet)
    data = open(videos / 'faststart.mp4', 'rb').read()
    (videos / 'faststart.mp4').write_bytes(data[:int(len(data) * 0.6)])  # frames declared up front, data cut
    write_audio_only(videos / 'sound.mp4')
    code, log = run_restore(capsys, '-i', str(videos), '-o', str(tmp_path / 'out'), '--model',
                            f'{tmp_path / "net_g.pth"}@MRRNet')
    skipped = [line for line in log.splitlines() if line.startswith('skipped')]
    assert code == 1 and len(skipped) == 4 and 'Traceback' not in log, log
    assert any('noise.mp4: cannot be read as a video' in line for line in skipped)
    assert any('cut.mp4: cannot be read as a video' in line for line in skipped)
    assert any('faststart.mp4' in line and 'truncated' in line for line in skipped)
    assert any('sound.mp4: has no video stream' in line for line in skipped)
    assert not (tmp_path / 'out' / 'restored_videos').exists() or not os.listdir(tmp_path / 'out' / 'restored_videos')

    (tmp_path / 'a_file').write_text('')
    code, log = run_restore(capsys, '-i', clip, '-o', str(tmp_path / 'a_file' / 'out'), '--model',
                            f'{tmp_path / "net_g.pth"}@MRRNet', '--end', '0.2')
    assert code == 1 and sum(line.startswith('skipped') for line in log.splitlines()) == 1
    assert 'cannot be written' in log and 'Traceback' not in log


def test_an_interrupted_write_leaves_no_file(tmp_path):
    writer = VideoWriter(str(tmp_path / 'out.mp4'), 25)
    writer.write(np.zeros((64, 64, 3), np.uint8))
    writer.abort()
    assert os.listdir(tmp_path) == []


def test_a_folder_of_frames_is_restored_as_a_clip(clip, tmp_path, capsys):
    torch.manual_seed(0)
    torch.save({'params': MRRNet().state_dict()}, tmp_path / 'net_g.pth')
    frames = tmp_path / 'shots'
    frames.mkdir()
    for index, _, frame in read_frames(clip, 0, 0.8):
        Image.fromarray(frame).save(frames / f'{index:04d}.png')
    argv = ['-o', str(tmp_path / 'out'), '--model', f'{tmp_path / "net_g.pth"}@MRRNet', '--upscale', '1']
    code, log = run_restore(capsys, '-i', str(frames), '--frame-rate', '10', *argv)
    assert code == 0 and 'shots: 20 frames, 1 face track(s) restored' in log, log
    restored, fps, audio = decoded(tmp_path / 'out' / 'restored_videos' / 'shots.mp4')
    assert len(restored) == 20 and fps == 10 and audio == 0 and restored[0].shape == (240, 320, 3)

    (frames / '0007.png').write_bytes(b'broken')
    code, log = run_restore(capsys, '-i', str(frames), '--frame-rate', '10', *argv[:1], str(tmp_path / 'out2'),
                            *argv[2:])
    assert code == 1 and 'Traceback' not in log and any(
        line.startswith('skipped') and '0007.png' in line for line in log.splitlines()), log
    assert not (tmp_path / 'out2' / 'restored_videos').exists() or not os.listdir(
        tmp_path / 'out2' / 'restored_videos')
    code, log = run_restore(capsys, '-i', clip, '--frame-rate', '10', *argv)
    assert code == 1 and '--frame-rate 10: give a rate > 0 and a folder of frames as --input.' in log


class InvertedFace(DetailFace):
    """A stand-in network whose faces do not reproduce their inputs (the negative of DetailFace's)."""

    def forward(self, x):
        return 1 - super().forward(x)


def test_the_consistency_guard_leaves_a_whole_track_alone_not_single_frames(clip, detected):
    """Decided once per track over up to 16 of its frames, so a face near the limit cannot blink on and off."""
    faithful = VideoRestorer(FaceRestorer(FaceModel.from_network(DetailFace(256)), build_detector('mtcnn'),
                                          upscale=2)).plan(clip, detected=detected)
    assert len(faithful.tracks) == 1 and faithful.left_alone == [] and faithful.notes == []
    inverted = FaceRestorer(FaceModel.from_network(InvertedFace(256)), build_detector('mtcnn'), upscale=2)
    plan = VideoRestorer(inverted).plan(clip, detected=detected)
    assert plan.tracks == [] and len(plan.left_alone) == 1 and len(plan.notes) == 1
    assert f'(frames 0-{FRAMES - 1})' in plan.notes[0] and 'median of 16 frames' in plan.notes[0]
    assert '--max-lr-error 14' in plan.notes[0] and all(plan.placements(frame) == [] for frame in range(FRAMES))
    inverted.max_lr_error = 0  # the guard off: the track is restored in every frame
    assert len(VideoRestorer(inverted).plan(clip, detected=detected).tracks) == 1
