"""What a benchmark compares: bicubic, trained networks given as test-option YAMLs or checkpoint + arch, and
folders of SR faces made elsewhere (another toolbox, a paper's released results)."""
import hashlib
import os.path as osp
from dataclasses import dataclass, field

import numpy as np
import torch

from mrr_plugin.archs.network_spec import load_network_spec
from mrr_plugin.archs.pil_resize import pil_bicubic_resize
from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.data.image_folder import ImageFolderError, list_images, listed

BICUBIC = 'bicubic'


@dataclass
class Method:
    """A named SR method: ``network`` maps LR (N, 3, h, w) in [0, 1] to SR in [0, 1]; None means PIL bicubic."""
    name: str
    network: torch.nn.Module = None
    description: str = ''
    sources: list = field(default_factory=list)  # files whose content identifies the method (for reuse)
    outputs: dict = None  # SR faces made elsewhere (--sr-folder): {face name: RGB uint8}; no network, no cost

    @property
    def from_folder(self):
        return self.outputs is not None

    def fingerprint(self):
        """A digest of the method's name, description (arch and its options) and the bytes of its files (option
        file, weights): a stored result is reused only for exactly this network."""
        digest = hashlib.sha256(f'{self.name}|{self.description}'.encode())
        for path in self.sources:
            with open(path, 'rb') as f:
                digest.update(hashlib.file_digest(f, 'sha256').digest())
        return digest.hexdigest()

    def super_resolve(self, lr, scale):
        """SR batch in [0, 1] (PIL bicubic, a = -0.5, 8-bit like PIL, for the bicubic baseline); ValueError if the
        network outputs NaN or infinity (such a network is refused, never scored)."""
        if self.network is None:
            return pil_bicubic_resize(lr, (lr.shape[-2] * scale, lr.shape[-1] * scale), quantize=True)
        with torch.no_grad():
            sr = self.network(lr)
        if not bool(torch.isfinite(sr).all()):
            raise ValueError(f'--method {self.name}: the network outputs non-finite values (NaN or infinity), so '
                             'it is not scored; are its weights from a run that diverged?')
        return sr.clamp(0, 1)


def bicubic_method():
    return Method(BICUBIC, None, "PIL bicubic (Keys a = -0.5, as published tables; not torch's a = -0.75)")


def _split_spec(spec, option, expected):
    """``NAME=TARGET`` -> (name, target), the name checked (it names files under --out)."""
    if '=' not in spec:
        raise ValueError(f'{option} {spec!r}: expected {expected}.')
    name, target = spec.split('=', 1)
    if not name or name in ('.', '..') or any(c in name for c in '/\\\0'):
        raise ValueError(f'{option} {name!r}: a method name may not be empty, "." or ".." nor hold "/" or "\\" (it '
                         'names files under --out).')
    if name == BICUBIC:
        raise ValueError('"bicubic" is always included; give the other methods other names.')
    return name, target


def method_from_spec(spec, device='cpu'):
    """``NAME=test_options.yml`` or ``NAME=checkpoint.pth@ARCH[:key=value,key=value]`` -> Method."""
    name, target = _split_spec(spec, '--method', 'NAME=options.yml or NAME=checkpoint.pth@ARCH')
    loaded = load_network_spec(target, device, f'--method {name}')
    return Method(name, loaded.network, loaded.description, loaded.sources)


def method_from_folder(spec, faces, scale=8, limited=False):
    """``NAME=DIR`` of SR faces made elsewhere -> Method, matched to the test ``faces`` by file name without
    extension (``DIR/<face>.png`` for the HR face ``<face>.png``).

    Everything is checked before anything is scored, one ValueError line per kind of problem: a folder that is not
    one, faces without an SR file, SR files of no test face (tolerated under ``--limit``, ``limited``), two files
    of one face, unreadable files, and SR faces whose size is not the HR face's (``scale`` x the LR face's without
    ground truth)."""
    name, folder = _split_spec(spec, '--sr-folder', 'NAME=DIR (a folder of SR faces named like the HR faces)')
    option = f'--sr-folder {name}={folder}'
    try:
        files = list_images(folder)
    except (ImageFolderError, OSError) as error:
        raise ValueError(f'{option}: {error}') from None
    by_face = {}
    for file in files:
        by_face.setdefault(osp.splitext(file)[0], []).append(file)
    wanted = [face[0] for face in faces]
    problems = []
    doubled = [' / '.join(found) for found in by_face.values() if len(found) > 1]
    if doubled:
        problems.append(f'{len(doubled)} face(s) have more than one file: {listed(doubled)}')
    missing = [face for face in wanted if face not in by_face]
    if missing:
        problems.append(f'{len(missing)} of the {len(wanted)} test faces have no SR file: {listed(missing)}')
    extra = sorted(set(by_face) - set(wanted))
    if extra and not limited:
        problems.append(f'{len(extra)} file(s) match no test face: {listed(by_face[e][0] for e in extra)}')
    if problems:
        raise ValueError(f'{option}: ' + '; '.join(problems) + '.')
    outputs, bad, sized = {}, [], []
    for face_name, lr, hr in faces:
        file = by_face[face_name][0]
        try:
            image = np.asarray(read_image(osp.join(folder, file)))
        except BadImageError:
            bad.append(file)
            continue
        expected = hr.shape if hr is not None else (lr.shape[0] * scale, lr.shape[1] * scale, 3)
        if image.shape != expected:
            sized.append(f'{file} is {image.shape[1]}x{image.shape[0]}, not {expected[1]}x{expected[0]}')
        outputs[face_name] = image
    if bad:
        problems.append(f'{len(bad)} file(s) cannot be read as images: {listed(bad)}')
    if sized:
        problems.append(f'{len(sized)} SR face(s) of the wrong size: {listed(sized, 3)}')
    if problems:
        raise ValueError(f'{option}: ' + '; '.join(problems) + '.')
    sources = [osp.join(folder, by_face[face][0]) for face in wanted]
    return Method(name, None, f'SR faces read from {folder} ({len(wanted)} files, made elsewhere)', sources, outputs)
