"""Unpaired HR faces and real low-quality faces for degradation learning (Bulat et al., ECCV 2018, section 3)."""
import random

import cv2
import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY
from PIL import Image
from torch.utils import data as data

from mrr_plugin.data.face_bicubic_dataset import FaceImageReader
from mrr_plugin.data.face_image_io import bicubic, to_tensor

LR_INTERPOLATIONS = {'area': cv2.INTER_AREA, 'bicubic': cv2.INTER_CUBIC, 'bilinear': cv2.INTER_LINEAR}


def resize_real_lr(image, size, interpolation='area'):
    """A real LR face (any size; WIDER faces are stored upsampled to 128) -> ``size`` x ``size`` ``PIL.Image``."""
    if image.size == (size, size):
        return image
    array = cv2.resize(np.asarray(image), (size, size), interpolation=LR_INTERPOLATIONS[interpolation])
    return Image.fromarray(array)


@DATASET_REGISTRY.register()
class UnpairedFaceDataset(data.Dataset):
    """Yields ``{'hr', 'real_lr', 'hr_path', 'real_lr_path'}``: an HR face and a real LR face drawn independently
    (plus ``lq_path`` = ``hr_path``, the name BasicSR's validation gives result files).

    HR faces are resized to ``hr_size`` (PIL bicubic); real LR faces to ``lr_size`` (``lr_interpolation``, area by
    default, as the WIDER faces' README advises). In training the LR face is a random one (Python's ``random``,
    seeded per sample by the training pipeline) and both sides are flipped at random; outside training face ``i``
    is paired with real LR face ``i mod n`` (fixed pairs for validation). The length is the number of HR faces.

    Args:
        opt (dict): Config with keys
            dataroot_hr, dataroot_real_lr (str): LMDB or image folder for each side.
            io_backend_hr, io_backend_real_lr (dict): ``{type: lmdb}`` or ``{type: disk}`` (default: ``io_backend``).
            hr_size (int): HR size, e.g. 64 (x4) or 128 (x8). Default: 128.
            lr_size (int): LR size. Default: 16.
            lr_interpolation (str): 'area' (default), 'bicubic' or 'bilinear'.
            use_hflip (bool): Random horizontal flips in training. Default: True.
            phase (str): 'train' draws random pairs.
    """

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        default_backend = opt.get('io_backend', {'type': 'disk'})
        self.hr = FaceImageReader(opt['dataroot_hr'], opt.get('io_backend_hr', default_backend), 'hr', 'dataroot_hr')
        self.real_lr = FaceImageReader(opt['dataroot_real_lr'], opt.get('io_backend_real_lr', default_backend),
                                       'real_lr', 'dataroot_real_lr')
        self.hr_size = opt.get('hr_size', 128)
        self.lr_size = opt.get('lr_size', 16)
        self.lr_interpolation = opt.get('lr_interpolation', 'area')
        if self.lr_interpolation not in LR_INTERPOLATIONS:
            raise ValueError(f'lr_interpolation must be one of {sorted(LR_INTERPOLATIONS)}, '
                             f'got {self.lr_interpolation!r}.')
        self.is_train = opt.get('phase') == 'train'
        self.use_hflip = self.is_train and opt.get('use_hflip', True)

    def __len__(self):
        return len(self.hr)

    def _flip(self, image):
        if self.use_hflip and random.random() < 0.5:
            return image.transpose(Image.FLIP_LEFT_RIGHT)
        return image

    def __getitem__(self, index):
        lr_index = random.randrange(len(self.real_lr)) if self.is_train else index % len(self.real_lr)
        hr = self._flip(bicubic(self.hr.read(index), self.hr_size))
        real_lr = self._flip(resize_real_lr(self.real_lr.read(lr_index), self.lr_size, self.lr_interpolation))
        hr_path = self.hr.paths[index]
        return {'hr': to_tensor(hr), 'real_lr': to_tensor(real_lr), 'hr_path': hr_path,
                'real_lr_path': self.real_lr.paths[lr_index], 'lq_path': hr_path}
