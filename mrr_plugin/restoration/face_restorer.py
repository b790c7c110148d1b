"""Restore the faces of real photos with any trained face-SR network: detect -> crop/align as in training ->
super-resolve (faces batched across photos) -> paste back with a feathered mask over an upscaled background.

``FaceRestorer.from_spec('options/test/MRRNet/test_MRRNet_x8_CelebA.yml', upscale=4).restore(image)`` is the Python
API (GFPGAN's ``GFPGANer(model_path, upscale, ...).enhance(img)`` in one call); ``python -m mrr_plugin.restore`` is a
thin shell over it. A face much larger than the model's input loses detail on the way in (the crop is reduced to the
input size, 16x16 for the x8 nets); every result carries a note saying so.
"""
from dataclasses import dataclass, field
from os import path as osp

import numpy as np
import torch
from PIL import Image

from mrr_plugin.archs.network_spec import interpolate_specs, load_network_spec
from mrr_plugin.data.face_geometry import DetectedFace, crop_face, matrix_scale
from mrr_plugin.restoration.face_alignment import face_matrix, paste_face, upscaled_matrix
from mrr_plugin.restoration.face_detectors import build_detector
from mrr_plugin.utils.precision import autocast, check_precision
from mrr_plugin.utils.visual import rgb_to_batch, tensor_to_rgb

DETAIL_LOSS_RATIO = 2.0  # a crop more than this many times the model's input side loses detail: say so


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
    ``restored`` face (uint8 RGB) and ``side``, the crop's side in photo pixels."""
    detection: DetectedFace
    matrix: np.ndarray
    crop: np.ndarray
    lr: np.ndarray
    side: float
    restored: np.ndarray = None


@dataclass
class RestoreResult:
    """``image``: the restored photo (``upscale`` x the input, uint8 RGB); ``faces``; ``notes`` worth logging."""
    image: np.ndarray = None
    faces: list = field(default_factory=list)
    notes: list = field(default_factory=list)


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
        model (FaceModel): the face network and its geometry.
        detector (callable): image -> list of :class:`DetectedFace` (see ``face_detectors.build_detector``);
            not needed with ``aligned``.
        upscale (float): output size / input size of the photo (GFPGAN's ``--upscale``).
        only_center_face (bool): keep the face closest to the photo's centre.
        aligned (bool): inputs are already face crops as the model was trained on; no detection, no paste-back.
        background (BackgroundUpsampler): how the rest of the photo is upscaled (PIL bicubic by default).
        batch_size (int): faces per network call, across photos.
        precision (str): fp32 | bf16 | fp16 (CUDA) autocast of the face network.
    """

    def __init__(self, model, detector=None, upscale=2, only_center_face=False, aligned=False, background=None,
                 batch_size=8, device='cpu', precision='fp32', feather=None):
        check_precision(precision, torch.device(device).type, '--precision')
        if not aligned and detector is None:
            raise ValueError('a detector is needed unless the inputs are aligned face crops (--aligned).')
        self.model, self.detector, self.upscale = model, detector, upscale
        self.only_center_face, self.aligned, self.feather = only_center_face, aligned, feather
        self.background = background or BackgroundUpsampler()
        self.batch_size, self.device, self.precision = batch_size, device, precision

    @classmethod
    def from_spec(cls, spec, detector='mtcnn', upscale=2, precision='fp32', runtime='torch', device='cpu',
                  alignment=None, face_size=None, weights_dir=None, min_face_size=16, bg_upsampler=None, bg_tile=400,
                  only_center_face=False, aligned=False, batch_size=8, gan_spec=None, weight=0.5):
        """A restorer in one call, from what ``mrr-restore`` takes on its command line: ``spec`` (the face
        network, :meth:`FaceModel.from_spec`), a detector name (``mtcnn``, ``retinaface`` with ``weights_dir``,
        ``lbp``), ``bg_upsampler`` (a network spec for the background, run in ``bg_tile`` px tiles; default PIL
        bicubic), ``gan_spec`` / ``weight`` (the fidelity knob of :meth:`FaceModel.from_spec`) and the options of
        :class:`FaceRestorer`."""
        if runtime == 'onnx' and precision != 'fp32':
            raise ValueError('--runtime onnx runs in fp32; leave --precision at fp32.')
        if upscale <= 0 or batch_size < 1:
            raise ValueError('--upscale must be > 0 and --batch-size >= 1.')
        check_precision(precision, torch.device(device).type, '--precision')
        model = FaceModel.from_spec(spec, device, alignment, face_size, runtime, gan_spec, weight)
        background = BackgroundUpsampler(device=device, precision=precision, tile=bg_tile)
        if bg_upsampler:
            background.network = load_network_spec(bg_upsampler, device, '--bg-upsampler').network
        if not aligned and isinstance(detector, str):
            detector = build_detector(detector, weights_dir, device, min_face_size)
        return cls(model, None if aligned else detector, upscale, only_center_face, aligned, background, batch_size,
                   device, precision)

    def restore(self, image):
        """:class:`RestoreResult` of one RGB uint8 photo."""
        return self.restore_many([image])[0]

    def restore_many(self, images):
        """Results of several photos; their faces go through the network together, ``batch_size`` at a time."""
        images = [np.repeat(image[..., None], 3, 2) if image.ndim == 2 else np.ascontiguousarray(image[..., :3])
                  for image in images]  # grey photos as RGB, alpha dropped
        results = [self._faces_of(image) for image in images]
        self._super_resolve([face for result in results for face in result.faces])
        for image, result in zip(images, results):
            grey = is_grey(image)
            if grey:  # a network trained on colour faces invents colour: a grey photo is restored grey
                for face in result.faces:
                    face.restored = to_grey(face.restored)
                if result.faces:
                    result.notes.append('grey photo: the restored faces are made grey too.')
            if self.aligned:
                result.image = result.faces[0].restored
            else:
                self._paste(image, result)
                if grey:  # a background network may tint it as well
                    result.image = to_grey(result.image)
        return results

    def _faces_of(self, image):
        size, result = self.model.hr_size, RestoreResult()
        if self.aligned:
            height, width = image.shape[:2]
            crop = bicubic_resize(image, (size, size))
            matrix = np.array([[size / width, 0, 0], [0, size / height, 0]])
            lr = image if (height, width) == (self.model.lr_size,) * 2 else None  # an LR crop goes in as it is
            result.faces.append(self._face(DetectedFace((0, 0, width, height)), matrix, crop, result, lr))
            return result
        detections = self.detector(image)
        if self.only_center_face and detections:
            centre = np.array(image.shape[1::-1]) / 2
            detections = [min(detections, key=lambda face: np.hypot(*(np.array(face.center) - centre)))]
        for detection in detections:
            matrix = face_matrix(detection, self.model.alignment, size)
            result.faces.append(self._face(detection, matrix, crop_face(image, matrix, size), result))
        if not detections:
            result.notes.append(f'no face found: the photo is written upscaled x{self.upscale:g} only.')
        return result

    def _face(self, detection, matrix, crop, result, lr=None):
        lr_size, side = self.model.lr_size, self.model.hr_size / matrix_scale(matrix)
        lr = bicubic_resize(crop, (lr_size, lr_size)) if lr is None else lr
        note = f'face {len(result.faces)}: {side:.0f} px in the photo -> {lr_size} px model input'
        if side > DETAIL_LOSS_RATIO * lr_size:
            note += (f' ({side / lr_size:.1f}x smaller: detail finer than {lr_size} px is lost on the way in; a '
                     'model with a larger input suits this face better)')
        result.notes.append(note)
        return RestoredFace(detection, matrix, crop, lr, side)

    def _super_resolve(self, faces):
        for start in range(0, len(faces), self.batch_size):
            chunk = faces[start:start + self.batch_size]
            with torch.no_grad(), autocast(self.precision, torch.device(self.device).type):
                output = self.model.network(rgb_to_batch([face.lr for face in chunk], self.device))
            if not bool(torch.isfinite(output).all()):
                raise ValueError(f'{self.model.name} outputs non-finite values (NaN or infinity); are its weights '
                                 'from a run that diverged?')
            hr_size = self.model.hr_size
            for face, restored in zip(chunk, map(tensor_to_rgb, output)):
                face.restored = bicubic_resize(restored, (hr_size, hr_size))

    def _paste(self, image, result):
        canvas = self.background(image, self.upscale)
        for face in result.faces:
            paste_face(canvas, face.restored, upscaled_matrix(face.matrix, self.upscale), self.feather)
        result.image = canvas
