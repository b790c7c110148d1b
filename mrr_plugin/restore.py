"""Restore the faces in your photos with any trained face-SR network (GFPGAN's inference options).

    python -m mrr_plugin.restore -i photos/ -o results/restored --model options/test/MRRNet/test_MRRNet_x8_CelebA.yml
    python -m mrr_plugin.restore -i 'photos/*.jpg' --model experiments/SPARNet_x8_CelebA/models/net_g_latest.pth@SPARNet
    python -m mrr_plugin.restore -i faces/ --aligned --model net.onnx --runtime onnx    # exported by export_onnx
    python -m mrr_plugin.restore -i photos/ --model mrrnet.pth@MRRNet --model-gan mrrgan.pth@MRRNet --weight 0.7
    python -m mrr_plugin.restore -i photos/ --model x8.pth@MRRNet --model x4.pth@RCAN:upscale=4 --face-size 128
    python -m mrr_plugin.restore -i clip.mp4 --model mrrnet.pth@MRRNet --upscale 4 --start 5 --end 20 --save-frames

Per face: detect (MTCNN from the facenet-pytorch package by default, or RetinaFace / the LBP cascade), crop as the
model was trained (``--alignment dic``: the DIC square crop of CelebA/Helen x8 models; ``ffhq``: the FFHQ 5-point
template of SPARNetHD), reduce to the model's input (16x16 for x8 models), super-resolve (faces batched across
photos), warp back with a feathered mask over the photo upscaled by ``--upscale`` (PIL bicubic, or any SR network
with ``--bg-upsampler``). Never a worse face: with several ``--model``s each face goes to the one whose input fits it;
a face more than ``--max-face-scale`` times the model's input, turned beyond ``--pose-limit`` (DIC crop), or whose
restoration does not reproduce its input (``--max-lr-error``) is left to the background upsampler, with a note.
Writes ``restored_imgs/``; with ``--save-faces`` also ``cropped_faces/``, ``restored_faces/`` and ``cmp/`` (input
face | restored face). Output names are unique per input: the input's stem,
or ``<stem>_<ext>`` when two inputs share a stem (``a.png``, ``a.jpg``). An input that cannot be read or restored
(not an image, too large, a link to nowhere, a FIFO...) is one line and skipped, the others are restored; the exit
status is 1 when any input failed. A test option file may say ``restore: {alignment: ffhq}``.

Videos (``.mp4``, ``.mov``, ``.mkv``, ``.avi``, ``.webm``...; PyAV; or a folder of frames with ``--frame-rate``): faces
tracked across frames with a smoothed crop (``--detect-every``, ``--smooth``, ``--fade``, ``--temporal-weight``),
written to ``restored_videos/<stem>.mp4`` (H.264, the source's frame rate and audio; ``--save-frames``: also
``restored_frames/<stem>/``); ``--benchmark`` on a
video prints its flicker with and without smoothing beside bicubic upscaling.
"""
import argparse
import glob
import os
import sys
import time
from os import path as osp

import numpy as np
import torch
from tqdm import tqdm

import mrr_plugin  # noqa: F401  (registers the archs)
from mrr_plugin.cli import CommandError, command
from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.data.image_folder import entry_problem, scan_images
from mrr_plugin.evaluation.profiling import restore_throughput
from mrr_plugin.metrics.niqe_set_metric import niqe_beside_bicubic
from mrr_plugin.restoration import DETECTORS, FaceRestorer
from mrr_plugin.restoration.face_alignment import ALIGNMENTS
from mrr_plugin.restoration.face_guards import DEFAULT_MAX_FACE_SCALE, DEFAULT_MAX_LR_ERROR, DIC_POSE_LIMIT
from mrr_plugin.restoration.face_restorer import bicubic_resize
from mrr_plugin.restoration.video_io import VideoError, is_video_path, video_info
from mrr_plugin.utils.visual import write_image


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-i', '--input', required=True, help='an image, a folder of images or a glob')
    parser.add_argument('-o', '--output', default='results/restored', help='output folder (default results/restored)')
    parser.add_argument('--model', required=True, action='append',
                        help='test option file, CHECKPOINT@ARCH[:key=value,...] or an exported .onnx; give several '
                        '(of different input sizes) to send each face to the one that fits it')
    parser.add_argument('--model-gan', help='a second checkpoint of the same arch (e.g. MRRGAN beside an MRRNet '
                        '--model): the face network is their weight interpolation, see --weight')
    parser.add_argument('--weight', type=float, help='fidelity weight in [0, 1] with --model-gan (ESRGAN\'s network '
                        'interpolation): 1 restores with --model alone, 0 with --model-gan alone (default 0.5)')
    parser.add_argument('--runtime', choices=['torch', 'onnx'], default='torch',
                        help='onnx: run the face network through onnxruntime (a spec is exported first)')
    parser.add_argument('--detector', choices=DETECTORS, default='mtcnn')
    parser.add_argument('--weights-dir', help="facexlib's weights (detection_Resnet50_Final.pth for retinaface)")
    parser.add_argument('--alignment', choices=ALIGNMENTS,
                        help='crop as the model was trained (default: the option file\'s restore.alignment, else ffhq '
                        'for networks that do not upscale, else dic)')
    parser.add_argument('--face-size', type=int, help='HR face side of a network without in_size (default 16 x scale)')
    parser.add_argument('--upscale', type=float, default=2, help='final upsampling of the photo (default 2)')
    parser.add_argument('--max-face-scale', type=float, default=DEFAULT_MAX_FACE_SCALE,
                        help='a face whose crop is more than this many times the model input side is left to the '
                        f'background upsampler (default {DEFAULT_MAX_FACE_SCALE:g}, measured; 0: restore any size)')
    parser.add_argument('--pose-limit', type=float, default=DIC_POSE_LIMIT,
                        help='DIC crop: a face whose landmarks stay further than this (eye distances) from the '
                        f'template is left alone (default {DIC_POSE_LIMIT:g}, measured; 0: no limit)')
    parser.add_argument('--max-lr-error', type=float, default=DEFAULT_MAX_LR_ERROR,
                        help='a restored face that, reduced to the model input, differs from the input by more than '
                        f'this (mean grey levels) is not pasted (default {DEFAULT_MAX_LR_ERROR:g}, measured; 0: off)')
    parser.add_argument('--only-center-face', action='store_true', help='only restore the face nearest the centre')
    parser.add_argument('--aligned', action='store_true', help='inputs are face crops as the model was trained on')
    parser.add_argument('--bg-upsampler', help='SR network for the background: CHECKPOINT@ARCH[:...] or option file '
                        '(default: PIL bicubic)')
    parser.add_argument('--bg-tile', type=int, default=400, help='tile size of the background network, 0 = no tiles')
    parser.add_argument('--ext', default='auto', help='png, jpg or auto (the input\'s extension)')
    parser.add_argument('--suffix', help='suffix of the restored files')
    parser.add_argument('--save-faces', action='store_true', help='also write cropped_faces/, restored_faces/, cmp/')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'fp16'])
    parser.add_argument('--batch-size', type=int, default=8, help='faces per network call, across photos')
    parser.add_argument('--min-face-size', type=int, default=16, help='smallest face the detector looks for (px)')
    parser.add_argument('--niqe', action='store_true',
                        help='print the no-reference NIQE of the restored faces and of the same faces bicubic-upscaled')
    parser.add_argument('--benchmark', action='store_true',
                        help='write nothing; time the whole pipeline on the inputs with torch fp32, torch bf16 and '
                        'onnxruntime, and print faces/s as ratios to fp32')
    parser.add_argument('--benchmark-runs', type=int, default=3)
    video = parser.add_argument_group('video')
    video.add_argument('--start', type=float, default=0.0, help='first second of the video to restore (default 0)')
    video.add_argument('--end', type=float, help='second at which to stop (default: the end)')
    video.add_argument('--detect-every', type=int, default=1, help='detect faces every N frames, track in between')
    video.add_argument('--smooth', type=float, default=2.0,
                       help='Gaussian sigma (frames) of each face\'s crop over time; 0: per-frame crops (default 2)')
    video.add_argument('--fade', type=int, default=5, help='frames over which a face fades in or out (default 5)')
    video.add_argument('--temporal-weight', type=float, default=0.0,
                       help='blend each restored face with its previous one in [0, 1) (default 0: off)')
    video.add_argument('--save-frames', action='store_true', help='also write restored_frames/<stem>/NNNNNN.png')
    video.add_argument('--frame-rate', type=float,
                       help='the input folder holds the frames of one clip (sorted by name) at this rate: restore it '
                       'as a video (tracks, smoothing) into restored_videos/<folder>.mp4')
    return parser.parse_args(argv)


def list_inputs(pattern):
    """``(files, bad)``: the image files of an image path, a folder (its images, sorted) or a glob, and one line for
    each entry named like an image that is not a readable regular file (a link to nowhere or in a loop, a FIFO...);
    CommandError when nothing matches."""
    if osp.isdir(pattern):
        scan = scan_images(pattern)
        files, bad = [osp.join(pattern, name) for name in scan.names], sorted(scan.bad.values())
    else:
        matches = [pattern] if osp.lexists(pattern) else sorted(glob.glob(pattern))
        problems = {path: entry_problem(path) for path in matches if not osp.isdir(path)}
        files = [path for path, problem in problems.items() if problem is None]
        bad = [f'{path}: {problem}' for path, problem in problems.items() if problem is not None]
    if osp.isdir(pattern):
        files += [osp.join(pattern, name) for name in sorted(os.listdir(pattern))
                  if is_video_path(name) and entry_problem(osp.join(pattern, name)) is None]
    if not files and not bad:
        raise CommandError(f'--input {pattern}: no image or video file there.')
    return files, bad


def output_stems(paths):
    """``{path: stem}`` of the output files, unique per input: the file's stem, ``<stem>_<ext>`` when inputs share
    a stem (``a.png`` and ``a.jpg`` -> ``a_png``, ``a_jpg``), and a number after that if they still collide (the
    same name in two folders of a glob)."""
    stems = [osp.splitext(osp.basename(path))[0] for path in paths]
    shared = {stem for stem in stems if stems.count(stem) > 1}
    taken, chosen = set(), {}
    for path, stem in zip(paths, stems):
        extension = osp.splitext(path)[1].lstrip('.').lower()
        candidate = f'{stem}_{extension}' if stem in shared and extension else stem
        unique, number = candidate, 2
        while unique in taken:
            unique, number = f'{candidate}_{number}', number + 1
        taken.add(unique)
        chosen[path] = unique
    return chosen


def build_restorer(args, runtime=None, precision=None):
    """The restorer the command line asks for (``runtime`` / ``precision`` override theirs, for --benchmark)."""
    if args.ext not in ('auto', 'png', 'jpg'):
        raise CommandError(f'--ext {args.ext}: expected png, jpg or auto.')
    if args.weight is not None and not args.model_gan:
        raise CommandError('--weight interpolates --model with --model-gan; give --model-gan too.')
    return FaceRestorer.from_spec(
        args.model, args.detector, args.upscale, precision or args.precision, runtime or args.runtime, args.device,
        args.alignment, args.face_size, args.weights_dir, args.min_face_size, args.bg_upsampler, args.bg_tile,
        args.only_center_face, args.aligned, args.batch_size, args.model_gan,
        0.5 if args.weight is None else args.weight, args.max_face_scale, args.pose_limit, args.max_lr_error)


class OutputWriter:
    """GFPGAN's output layout under ``root``."""

    def __init__(self, root, ext, suffix, save_faces):
        self.root, self.ext, self.suffix, self.save_faces = root, ext, f'_{suffix}' if suffix else '', save_faces

    def folder(self, name):
        folder = osp.join(self.root, name)
        os.makedirs(folder, exist_ok=True)
        return folder

    def write(self, path, stem, result, aligned):
        ext = osp.splitext(path)[1].lstrip('.').lower() if self.ext == 'auto' else self.ext
        ext = 'jpg' if ext == 'jpeg' else ext if ext in ('png', 'jpg') else 'png'
        if not aligned:
            write_image(osp.join(self.folder('restored_imgs'), f'{stem}{self.suffix}.{ext}'), result.image)
        if not (self.save_faces or aligned):
            return
        for index, face in enumerate(result.faces):
            name = f'{stem}_{index:02d}'
            write_image(osp.join(self.folder('restored_faces'), f'{name}{self.suffix}.png'), face.restored)
            write_image(osp.join(self.folder('cropped_faces'), f'{name}.png'), face.crop)
            lr_up = bicubic_resize(face.lr, face.restored.shape[1::-1])
            write_image(osp.join(self.folder('cmp'), f'{name}.png'), np.concatenate([lr_up, face.restored], 1))


def benchmark(args, files):
    """faces/s of detect + align + super-resolve + paste-back (file reading and writing excluded), one run."""
    images = []
    for path in files:
        try:
            images.append(np.asarray(read_image(path)))
        except BadImageError:
            pass
    variants = [('torch fp32', 'torch', 'fp32'), ('torch bf16', 'torch', 'bf16'), ('onnxruntime fp32', 'onnx', 'fp32')]
    if all(model.endswith('.onnx') for model in args.model):
        variants = variants[2:]
    rows, base = [], None
    for label, runtime, precision in variants:
        rate = restore_throughput(build_restorer(args, runtime, precision), images, args.batch_size,
                                  args.benchmark_runs)
        base = base or rate
        rows.append(f'| {label} | {rate:.2f} | {rate / base:.2f}x |')
    device = (torch.cuda.get_device_name()
              if args.device.startswith('cuda') else f'CPU, {torch.get_num_threads()} threads')
    print(f'Whole restore pipeline on {len(images)} photos ({args.detector} detector, {device}, batch '
          f'{args.batch_size}, {args.benchmark_runs} runs, one process):\n')
    print('\n'.join(['| pipeline | faces/s | vs first row |', '|---|---|---|', *rows]))
    return 0


def restore_photos(restorer, paths, images, report):
    """``[(path, result)]`` of the photos restored in one batch; a photo whose restoration fails on its own is one
    line (via ``report``) and left out, the others of the batch are restored."""
    try:
        return list(zip(paths, restorer.restore_many(images)))
    except (ValueError, OSError, RuntimeError, MemoryError):
        if len(images) == 1:
            raise
    results = []
    for path, image in zip(paths, images):  # find the photo that fails; restore the others
        try:
            results += restore_photos(restorer, [path], [image], report)
        except (ValueError, OSError, RuntimeError, MemoryError) as error:
            report(f'skipped {path}: cannot be restored ({type(error).__name__}: '
                   f'{str(error).splitlines()[0][:200] if str(error) else "no message"}).')
    return results


def video_restorer(args, restorer, **overrides):
    from mrr_plugin.restoration.video_restorer import VideoRestorer
    settings = dict(detect_every=args.detect_every, smooth=args.smooth, temporal_weight=args.temporal_weight,
                    fade=args.fade, fps=args.frame_rate)
    return VideoRestorer(restorer, **{**settings, **overrides})


def check_video_span(args):
    if args.start < 0 or (args.end is not None and args.end <= args.start):
        raise CommandError(f'--start {args.start:g} --end {args.end}: expected 0 <= start < end.')


def restore_video(args, restorer, path, stem, report):
    """Restore one video into ``restored_videos/<stem>.mp4`` (1 if done); a video that cannot be read or written is
    one line via ``report`` and leaves no file (0)."""
    import shutil
    name = osp.basename(path)
    video = video_restorer(args, restorer)
    suffix = f'_{args.suffix}' if args.suffix else ''
    output = osp.join(args.output, 'restored_videos', f'{stem}{suffix}.mp4')
    frames = osp.join(args.output, 'restored_frames', stem)
    partial = osp.join(args.output, 'restored_frames', f'.partial_{stem}')  # moved into place when the video is done
    sink = (lambda position, image: write_image(osp.join(partial, f'{position:06d}.png'), image)) \
        if args.save_frames else None
    try:
        with tqdm(total=video_info(path, args.frame_rate).span_frames(args.start, args.end),
                  desc=f'{name}: find faces', unit='frame') as bar:
            plan = video.plan(path, args.start, args.end, bar.update)
        for note in plan.notes:
            tqdm.write(f'{name}: {note}')
        if sink:
            try:
                os.makedirs(partial, exist_ok=True)
            except OSError as error:
                raise VideoError(f'{frames}: cannot be written ({error.strerror or error}).') from error
        with tqdm(total=len(plan.frames), desc=f'{name}: restore', unit='frame') as bar:
            count = video.restore(path, output, plan, args.start, args.end, args.batch_size, sink,
                                  progress=bar.update)
        if sink:
            shutil.rmtree(frames, ignore_errors=True)
            os.replace(partial, frames)
    except VideoError as error:
        shutil.rmtree(partial, ignore_errors=True)
        report(f'skipped {error}')
        return 0
    tqdm.write(f'{name}: {count} frames, {len(plan.tracks)} face track(s) restored, {len(plan.left_alone)} left as '
               f'they were -> {output}')
    return 1


def video_flicker(args, path):
    """Print the flicker (FlickerMeter) of bicubic upscaling, per-frame restoration and the smoothed one."""
    import tempfile

    from mrr_plugin.metrics.flicker_metric import FlickerMeter
    from mrr_plugin.restoration.video_restorer import VideoPlan
    restorer = build_restorer(args)
    steady = video_restorer(args, restorer)
    per_frame = video_restorer(args, restorer, detect_every=1, smooth=0, temporal_weight=0, fade=0)
    detected = per_frame.detect(path, args.start, args.end)  # every frame: the steady plan takes its share
    plan = steady.plan(path, args.start, args.end, detected=detected)
    variants = [('bicubic upscaling (no face restored)', steady, VideoPlan(frames=plan.frames)),
                ('per-frame restoration (--detect-every 1 --smooth 0 --fade 0)', per_frame,
                 per_frame.plan(path, args.start, args.end, detected=detected)),
                (f'tracked and smoothed (--detect-every {args.detect_every} --smooth {args.smooth:g} --fade '
                 f'{args.fade} --temporal-weight {args.temporal_weight:g})', steady, plan)]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, video, variant in variants:
            meter = FlickerMeter()
            video.restore(path, osp.join(scratch, 'out.mp4'), variant, args.start, args.end, args.batch_size,
                          meter=meter, audio=False, mask_plan=plan)
            rows.append((label, meter.value))
    print(f'Flicker of {osp.basename(path)} ({len(plan.frames)} frames, {len(plan.tracks)} face track(s)): mean '
          '|frame - previous frame warped by the input\'s optical flow| inside the faces, grey levels\n')
    print('| restoration | flicker | vs bicubic |\n|---|---|---|')
    for label, value in rows:
        print(f'| {label} | {value:.3f} | {value / rows[0][1]:.2f}x |')
    return 0


@command
def main(argv=None):
    args = parse_args(argv)
    check_video_span(args)
    if args.frame_rate is not None:
        if not osp.isdir(args.input) or not args.frame_rate > 0:
            raise CommandError(f'--frame-rate {args.frame_rate:g}: give a rate > 0 and a folder of frames as --input.')
        files, bad_entries = [args.input.rstrip('/') or '/'], []
    else:
        files, bad_entries = list_inputs(args.input)
    videos = [path for path in files if is_video_path(path) or osp.isdir(path)]
    files = [path for path in files if path not in videos]
    if args.benchmark:
        if videos:
            return max(video_flicker(args, path) for path in videos)
        return benchmark(args, files)
    restorer = build_restorer(args)
    writer = OutputWriter(args.output, args.ext, args.suffix, args.save_faces)
    stems = output_stems(files + videos)
    failed, faces, left_alone, started = 0, 0, 0, time.perf_counter()
    restored, bicubic = [], []  # faces kept for --niqe

    def report(line):
        nonlocal failed
        tqdm.write(line, file=sys.stderr)
        failed += 1

    for line in bad_entries:
        report(f'skipped {line}')
    group = args.batch_size  # photos read together, so their faces share network calls (checked >= 1)
    with tqdm(total=len(files), unit='photo', desc='restore', disable=not files) as bar:
        for start in range(0, len(files), group):
            paths, images = [], []
            for path in files[start:start + group]:
                try:
                    images.append(np.asarray(read_image(path)))
                    paths.append(path)
                except BadImageError as error:
                    report(f'skipped {error}')
            for path, result in restore_photos(restorer, paths, images, report):
                for note in result.notes:
                    tqdm.write(f'{osp.basename(path)}: {note}')
                writer.write(path, stems[path], result, args.aligned)
                faces, left_alone = faces + len(result.faces), left_alone + len(result.left_alone)
                if args.niqe:
                    restored += [face.restored for face in result.faces]
                    bicubic += [bicubic_resize(face.lr, face.restored.shape[1::-1]) for face in result.faces]
            bar.update(len(files[start:start + group]))
    photo_seconds, photos_done = time.perf_counter() - started, len(files) + len(bad_entries) - failed
    restored_videos = sum(restore_video(args, restorer, path, stems[path], report) for path in videos)
    print(f'restored {faces} faces in {photos_done} photos ({faces / photo_seconds:.2f} faces/s); {left_alone} face(s) '
          f'left as they were (see the notes); {restored_videos} video(s) restored; {failed} input(s) failed; results '
          f'in {args.output}')
    if args.niqe:
        print(niqe_beside_bicubic(restored, bicubic))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
