"""Restore the faces of real photos with any trained face-SR network: detect -> crop/align as in training ->
super-resolve (faces batched across photos) -> paste back with a feathered mask over an upscaled background.

``FaceRestorer.from_spec('options/test/MRRNet/test_MRRNet_x8_CelebA.yml', upscale=4).restore(image)`` is the Python
API (GFPGAN's ``GFPGANer(model_path, upscale, ...).enhance(img)`` in one call); ``python -m mrr_plugin.restore`` is a
thin shell over it. A face much larger than the model's input loses detail on the way in (the crop is reduced to the
input size, 16x16 for the x8 nets): such a face, a face turned or tilted beyond what the DIC crop fits, and a
restored face that does not reproduce its input are left to the background upsampler with a note
(:mod:`~mrr_plugin.restoration.face_guards`), so the restorer never pastes back a face worse than the plain upscale.
"""
from dataclasses import dataclass, field
from os import path as osp

import numpy as np
import torch
from PIL import Image

from mrr_plugin.archs.network_spec import interpolate_specs, load_network_spec
from mrr_plugin.data.face_geometry import DetectedFace, crop_face, matrix_scale
from mrr_plugin.restoration.face_alignment import face_matrix, paste_face, pose_fit_error, upscaled_matrix
from mrr_plugin.restoration.face_detectors import build_detector
from mrr_plugin.restoration.face_guards import (DEFAULT_MAX_FACE_SCALE, DEFAULT_MAX_LR_ERROR, DIC_POSE_LIMIT,
                                                check_limits, lr_consistency_error, pick_model)
from mrr_plugin.utils.precision import autocast, check_precision
from mrr_plugin.utils.visual import rgb_to_batch, tensor_to_rgb


@dataclass
class FaceModel:
    """A face-SR network with what restoring needs: its LR input side, HR output side and training crop."""
    network: object
    lr_size: int
    hr_size: int
    alignment: str = 'dic'
    name: str = 'model'

    @classmethod
    def from_network(cls, network, alignment=None, face_size=None, name='model'):
        """Sizes from the network: the face-SR skeleton's ``in_size`` / ``upscale`` (MRRNet, SPARNet, SPARNetHD),
        else the scale measured on a 16x16 probe and an HR side of ``face_size`` (default 16 x scale; baselines
        such as EDSR run at any size).
        Alignment default: ``ffhq`` for networks that do not upscale (SPARNetHD), else ``dic``."""
        if hasattr(network, 'in_size') and hasattr(network, 'upscale'):  # the size it was built for; face_size unused
            hr_size = network.in_size
            lr_size = hr_size // network.upscale
        else:
            device = next(network.parameters()).device if hasattr(network, 'parameters') else 'cpu'
            with torch.no_grad():
                scale = network(torch.zeros(1, 3, 16, 16, device=device)).shape[-1] // 16
            hr_size = face_size or 16 * scale
            lr_size = hr_size // scale
        alignment = alignment or getattr(network, 'alignment', None) or ('ffhq' if lr_size == hr_size else 'dic')
        return cls(network, lr_size, hr_size, alignment, name)

    @classmethod
    def from_spec(cls, spec, device='cpu', alignment=None, face_size=None, runtime='torch', gan_spec=None,
                  weight=0.5):
        """The face model of a spec: a test option file, ``CHECKPOINT@ARCH[:key=value,...]`` (see
        :func:`~mrr_plugin.archs.network_spec.load_network_spec`) or an exported ``.onnx``. ``alignment`` defaults
        to the option file's ``restore.alignment``; ``runtime='onnx'`` exports a torch spec to a temporary file
        (removed at exit) and runs it through onnxruntime. With ``gan_spec`` (a checkpoint of the same arch, e.g.
        MRRGAN beside MRRNet) the network is the interpolation of the two with fidelity ``weight``
        (:func:`~mrr_plugin.archs.network_spec.interpolate_specs`: 1 is ``spec``, 0 is ``gan_spec``)."""
        if runtime not in ('torch', 'onnx'):
            raise ValueError(f'--runtime {runtime}: expected torch or onnx.')
        if spec.endswith('.onnx'):
            if gan_spec:
                raise ValueError('--model-gan: an exported .onnx model cannot be interpolated; give the checkpoints.')
            from mrr_plugin.restoration.onnx_runtime import OnnxNetwork
            return cls.from_network(OnnxNetwork(spec), alignment, face_size, osp.basename(spec))
        loaded = load_network_spec(spec, device, '--model')
        if gan_spec:
            loaded = interpolate_specs(loaded, load_network_spec(gan_spec, device, '--model-gan'), weight)
        alignment = alignment or (loaded.options.get('restore') or {}).get('alignment')
        model = cls.from_network(loaded.network, alignment, face_size, loaded.network_opt['type'])
        if runtime == 'onnx':
            from mrr_plugin.restoration.onnx_runtime import temporary_onnx_network
            model.network = temporary_onnx_network(loaded.network, model)
        return model

    @property
    def scale(self):
        return self.hr_size // self.lr_size


@dataclass
class RestoredFace:
    """One face: its detection, the photo -> crop ``matrix``, the HR-size ``crop``, the model's ``lr`` input, the
    ``restored`` face (uint8 RGB), ``side``, the crop's side in photo pixels, the :class:`FaceModel` it goes to and,
    for a face left as it was, the ``reason``; ``alpha`` (paste opacity) and ``key`` (its track) in a video."""
    detection: DetectedFace
    matrix: np.ndarray
    crop: np.ndarray
    lr: np.ndarray
    side: float
    restored: np.ndarray = None
    model: FaceModel = None
    reason: str = None
    number: int = 0
    alpha: float = 1.0
    key: object = None


@dataclass
class RestoreResult:
    """``image``: the restored photo (``upscale`` x the input, uint8 RGB); ``faces``: the faces restored and pasted;
    ``left_alone``: the faces found but left to the background upsampler (each with its ``reason``); ``notes``
    worth logging."""
    image: np.ndarray = None
    faces: list = field(default_factory=list)
    left_alone: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def as_rgb(image):
    """A photo as RGB uint8: grey (H, W) repeated to three channels, an alpha channel dropped."""
    return np.repeat(image[..., None], 3, 2) if image.ndim == 2 else np.ascontiguousarray(image[..., :3])


def is_grey(image):
    """An RGB uint8 photo whose three channels are equal (a grey photo stored as colour, or read from grey)."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def to_grey(image):
    """RGB uint8 -> the same image in grey (ITU-R BT.601 luma, as PIL's ``convert('L')``), three equal channels."""
    luma = np.asarray(Image.fromarray(image).convert('L'))
    return np.repeat(luma[..., None], 3, 2)


def bicubic_resize(image, size):
    """PIL bicubic (antialiased when reducing) of an RGB uint8 array to ``size`` (w, h)."""
    size = tuple(int(v) for v in size)
    if image.shape[1::-1] == size:
        return image.copy()
    return np.array(Image.fromarray(image).resize(size, Image.BICUBIC))


class BackgroundUpsampler:
    """The photo behind the faces: PIL bicubic, or any SR network (e.g. a BasicSR RRDBNet), optionally tiled
    (``tile`` px tiles with ``pad`` px of context, as Real-ESRGAN's inference) to bound memory."""

    def __init__(self, network=None, tile=0, pad=10, device='cpu', precision='fp32'):
        self.network, self.tile, self.pad, self.device, self.precision = network, tile, pad, device, precision

    def __call__(self, image, upscale):
        height, width = image.shape[:2]
        target = (int(round(width * upscale)), int(round(height * upscale)))
        if self.network is None or upscale <= 1:
            return bicubic_resize(image, target)
        with torch.no_grad(), autocast(self.precision, torch.device(self.device).type):
            output = self._tiled(rgb_to_batch([image], self.device)) if self.tile else self.network(
                rgb_to_batch([image], self.device))
        return bicubic_resize(tensor_to_rgb(output[0]), target)

    def _tiled(self, batch):
        _, _, height, width = batch.shape
        tile, pad, out = self.tile, self.pad, None
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                y0, x0 = max(top - pad, 0), max(left - pad, 0)
                y1, x1 = min(top + tile + pad, height), min(left + tile + pad, width)
                piece = self.network(batch[:, :, y0:y1, x0:x1]).float()
                scale = piece.shape[-1] // (x1 - x0)
                if out is None:
                    out = batch.new_zeros(1, 3, height * scale, width * scale)
                bottom, right = min(top + tile, height), min(left + tile, width)
                out[:, :, top * scale:bottom * scale, left * scale:right * scale] = piece[
                    :, :, (top - y0) * scale:(bottom - y0) * scale, (left - x0) * scale:(right - x0) * scale]
        return out


class FaceRestorer:
    """Detect, align, super-resolve and paste back every face of RGB uint8 photos.

    Args:
        model (FaceModel | list[FaceModel]): the face network and its geometry; with several, each face goes to the
            one whose input fits it best (:func:`~mrr_plugin.restoration.face_guards.pick_model`).
        detector (callable): image -> list of :class:`DetectedFace` (see ``face_detectors.build_detector``);
            not needed with ``aligned``.
        upscale (float): output size / input size of the photo (GFPGAN's ``--upscale``).
        only_center_face (bool): keep the face closest to the photo's centre.
        aligned (bool): inputs are already face crops as the model was trained on; no detection, no paste-back.
        background (BackgroundUpsampler): how the rest of the photo is upscaled (PIL bicubic by default).
        batch_size (int): faces per network call, across photos.
        precision (str): fp32 | bf16 | fp16 (CUDA) autocast of the face network.
        max_face_scale (float): a face whose crop side is more than this many times the model's input side is left
            to the background upsampler (None or 0: restore faces of any size).
        pose_limit (float): a face whose 5 landmarks are further than this from the DIC template after its fit
            (:func:`~mrr_plugin.restoration.face_guards.template_fit_error`) is left alone (None or 0: no limit).
        max_lr_error (float): a restored face that, reduced to the input size, differs from the input by more than
            this (mean grey levels) is not pasted (None or 0: no check).
    The three checks guard photos; ``aligned`` crops are restored as they are.
    """

    def __init__(self, model, detector=None, upscale=2, only_center_face=False, aligned=False, background=None,
                 batch_size=8, device='cpu', precision='fp32', feather=None, max_face_scale=DEFAULT_MAX_FACE_SCALE,
                 pose_limit=DIC_POSE_LIMIT, max_lr_error=DEFAULT_MAX_LR_ERROR):
        check_precision(precision, torch.device(device).type, '--precision')
        if not aligned and detector is None:
            raise ValueError('a detector is needed unless the inputs are aligned face crops (--aligned).')
        check_limits(max_face_scale, pose_limit, max_lr_error)
        self.models = list(model) if isinstance(model, (list, tuple)) else [model]
        if not self.models:
            raise ValueError('--model: give at least one face model.')
        self.model, self.detector, self.upscale = self.models[0], detector, upscale
        self.max_face_scale, self.pose_limit, self.max_lr_error = max_face_scale, pose_limit, max_lr_error
        self.only_center_face, self.aligned, self.feather = only_center_face, aligned, feather
        self.background = background or BackgroundUpsampler()
        self.batch_size, self.device, self.precision = batch_size, device, precision

    @classmethod
    def from_spec(cls, spec, detector='mtcnn', upscale=2, precision='fp32', runtime='torch', device='cpu',
                  alignment=None, face_size=None, weights_dir=None, min_face_size=16, bg_upsampler=None, bg_tile=400,
                  only_center_face=False, aligned=False, batch_size=8, gan_spec=None, weight=0.5,
                  max_face_scale=DEFAULT_MAX_FACE_SCALE, pose_limit=DIC_POSE_LIMIT, max_lr_error=DEFAULT_MAX_LR_ERROR):
        """A restorer in one call, from what ``mrr-restore`` takes on its command line: ``spec`` (the face
        network, :meth:`FaceModel.from_spec`, or a list of them: each face goes to the one that fits it), a detector
        name (``mtcnn``, ``retinaface`` with ``weights_dir``, ``lbp``), ``bg_upsampler`` (a network spec for the
        background, run in ``bg_tile`` px tiles; default PIL bicubic), ``gan_spec`` / ``weight`` (the fidelity knob
        of :meth:`FaceModel.from_spec`) and the options of :class:`FaceRestorer`."""
        if runtime == 'onnx' and precision != 'fp32':
            raise ValueError('--runtime onnx runs in fp32; leave --precision at fp32.')
        if upscale <= 0 or batch_size < 1:
            raise ValueError('--upscale must be > 0 and --batch-size >= 1.')
        check_precision(precision, torch.device(device).type, '--precision')
        check_limits(max_face_scale, pose_limit, max_lr_error)
        specs = [spec] if isinstance(spec, str) else list(spec)
        if gan_spec and len(specs) != 1:
            raise ValueError('--model-gan interpolates one --model; give a single --model with it.')
        models = [FaceModel.from_spec(one, device, alignment, face_size, runtime, gan_spec, weight) for one in specs]
        background = BackgroundUpsampler(device=device, precision=precision, tile=bg_tile)
        if bg_upsampler:
            background.network = load_network_spec(bg_upsampler, device, '--bg-upsampler').network
        if not aligned and isinstance(detector, str):
            detector = build_detector(detector, weights_dir, device, min_face_size)
        return cls(models, None if aligned else detector, upscale, only_center_face, aligned, background, batch_size,
                   device, precision, max_face_scale=max_face_scale, pose_limit=pose_limit, max_lr_error=max_lr_error)

    def restore(self, image):
        """:class:`RestoreResult` of one RGB uint8 photo."""
        return self.restore_many([image])[0]

    def restore_many(self, images):
        """Results of several photos; their faces go through the network together, ``batch_size`` at a time."""
        images = [as_rgb(image) for image in images]
        return self._complete(images, [self._faces_of(image) for image in images])

    def restore_placed(self, images, placements, paste=True, check=True):
        """Results of frames whose faces are placed already (a video's tracks): ``placements[i]`` lists
        ``(model, matrix, alpha, key)`` for frame i. No detection and no size or pose check (the caller decides per
        track with :meth:`route`); grey frames as for photos, and the consistency check unless ``check=False`` (a
        video decides it per track with :meth:`consistency_error`). With ``paste=False`` the results hold the
        restored faces only, for :meth:`paste_back` (after, e.g., smoothing them over time)."""
        images = [as_rgb(image) for image in images]
        results = []
        for image, placed in zip(images, placements):
            result = RestoreResult()
            for number, (model, matrix, alpha, key) in enumerate(placed):
                face = self._face(None, model, matrix, crop_face(image, matrix, model.hr_size), result, number=number)
                face.alpha, face.key = alpha, key
                result.faces.append(face)
            results.append(result)
        return self._complete(images, results, paste, check)

    def route(self, detection):
        """``(model, matrix, side, reason)`` of a detected face: the model whose input fits it, its crop matrix,
        the crop's side in photo pixels and why the face is left alone (its size or its pose), None to restore it."""
        matrices = [face_matrix(detection, model.alignment, model.hr_size) for model in self.models]
        sides = [(model.hr_size / matrix_scale(matrix), model.lr_size) for model, matrix in zip(self.models, matrices)]
        index, reason = pick_model(sides, self.max_face_scale)
        model, matrix = self.models[index], matrices[index]
        pose = pose_fit_error(detection, model.alignment, matrix, model.hr_size)
        if reason is None and self.pose_limit and pose is not None and pose > self.pose_limit:
            reason = (f'its 5 landmarks are {pose:.2f} eye distances from the DIC template after the fit (limit '
                      f'--pose-limit {self.pose_limit:g}): turned or tilted beyond the faces the model was trained '
                      'on; left to the background upsampler')
        return model, matrix, sides[index][0], reason

    def paste_back(self, image, result):
        """``result.image``: the upscaled ``image`` with ``result.faces`` pasted back (each at its ``alpha``)."""
        canvas = self.background(image, self.upscale)
        for face in result.faces:
            paste_face(canvas, face.restored, upscaled_matrix(face.matrix, self.upscale), self.feather, face.alpha)
        result.image = to_grey(canvas) if is_grey(image) else canvas  # a background network may tint a grey photo

    def _complete(self, images, results, paste=True, check=True):
        self._super_resolve([face for result in results for face in result.faces])
        for image, result in zip(images, results):
            if is_grey(image):  # a network trained on colour faces invents colour: a grey photo is restored grey
                for face in result.faces:
                    face.restored = to_grey(face.restored)
                if result.faces:
                    result.notes.append('grey photo: the restored faces are made grey too.')
            if self.aligned:
                result.image = result.faces[0].restored
                continue
            if check:
                self._check_consistency(result)
            if paste:
                self.paste_back(image, result)
        return results

    def _faces_of(self, image):
        result = RestoreResult()
        if self.aligned:
            height, width = image.shape[:2]
            model = self.models[pick_model([(width, m.lr_size) for m in self.models], None)[0]]
            size = model.hr_size
            crop = bicubic_resize(image, (size, size))
            matrix = np.array([[size / width, 0, 0], [0, size / height, 0]])
            lr = image if (height, width) == (model.lr_size,) * 2 else None  # an LR crop goes in as it is
            result.faces.append(self._face(DetectedFace((0, 0, width, height)), model, matrix, crop, result, lr))
            return result
        detections = self.detector(image)
        if self.only_center_face and detections:
            centre = np.array(image.shape[1::-1]) / 2
            detections = [min(detections, key=lambda face: np.hypot(*(np.array(face.center) - centre)))]
        for number, detection in enumerate(detections):
            model, matrix, side, reason = self.route(detection)
            if reason is not None:
                result.left_alone.append(RestoredFace(detection, matrix, None, None, side, None, model, reason,
                                                      number))
                result.notes.append(f'face {number}: {reason}.')
                continue
            result.faces.append(self._face(detection, model, matrix, crop_face(image, matrix, model.hr_size), result,
                                           number=number))
        if not detections:
            result.notes.append(f'no face found: the photo is written upscaled x{self.upscale:g} only.')
        return result

    def _face(self, detection, model, matrix, crop, result, lr=None, number=0):
        lr_size, side = model.lr_size, model.hr_size / matrix_scale(matrix)
        lr = bicubic_resize(crop, (lr_size, lr_size)) if lr is None else lr
        note = f'face {number}: {side:.0f} px in the photo -> {lr_size} px input of {model.name}'
        if side > DEFAULT_MAX_FACE_SCALE * lr_size:  # restored anyway (the size guard raised or off): say so
            note += (f' ({side / lr_size:.1f}x smaller: detail finer than {lr_size} px is lost on the way in; a '
                     'model with a larger input suits this face better)')
        result.notes.append(note)
        return RestoredFace(detection, matrix, crop, lr, side, model=model, number=number)

    def _super_resolve(self, faces):
        for model in self.models:
            mine = [face for face in faces if face.model is model]
            for start in range(0, len(mine), self.batch_size):
                chunk = mine[start:start + self.batch_size]
                with torch.no_grad(), autocast(self.precision, torch.device(self.device).type):
                    output = model.network(rgb_to_batch([face.lr for face in chunk], self.device))
                if not bool(torch.isfinite(output).all()):
                    raise ValueError(f'{model.name} outputs non-finite values (NaN or infinity); are its weights '
                                     'from a run that diverged?')
                for face, restored in zip(chunk, map(tensor_to_rgb, output)):
                    face.restored = bicubic_resize(restored, (model.hr_size, model.hr_size))

    def consistency_error(self, face):
        """How far ``face``'s restoration is from reproducing its input: the grey levels of
        :func:`~mrr_plugin.restoration.face_guards.lr_consistency_error`."""
        return lr_consistency_error(face.restored, face.lr)

    def inconsistency(self, error, model, of=''):
        """Why a face (``of``: e.g. ' (median of 16 frames)') whose consistency error is ``error`` is left alone,
        or None when it is within ``max_lr_error`` (or the check is off)."""
        if not self.max_lr_error or error <= self.max_lr_error:
            return None
        return (f'the restored face reduced to {model.lr_size} px differs from the input by {error:.1f} grey levels '
                f'on average{of} (limit --max-lr-error {self.max_lr_error:g}): not pasted, the background '
                'upsampler\'s face is kept')

    def _check_consistency(self, result):
        """Faces whose restoration does not reproduce their input move from ``faces`` to ``left_alone``."""
        if not self.max_lr_error:
            return
        kept = []
        for face in result.faces:
            face.reason = self.inconsistency(self.consistency_error(face), face.model)
            if face.reason:
                result.left_alone.append(face)
                result.notes.append(f'face {face.number}: {face.reason}.')
            else:
                kept.append(face)
        result.faces = kept
