"""Online real-world degradation of HR faces (SPARNetHD, TIP 2020, section III-C, eq. 14).

LR = JPEG_q(resize_down(blur(HR)) + noise), resized back to the network input size; each step random, every
probability and range an option. Randomness comes from numpy's and Python's global generators, which the
training pipeline seeds per sample from (``manual_seed``, epoch, index) (``data/seeded_sampling.py``), so runs are
reproducible with any number of workers and resume exactly.
"""
import random

import cv2
import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY
from PIL import Image

from mrr_plugin.data.face_bicubic_dataset import FaceBicubicDataset

INTERPOLATIONS = {'nearest': cv2.INTER_NEAREST, 'linear': cv2.INTER_LINEAR, 'cubic': cv2.INTER_CUBIC,
                  'area': cv2.INTER_AREA, 'lanczos': cv2.INTER_LANCZOS4}


def random_odd(low, high):
    """Uniform odd integer in [low, high] (kernel sizes)."""
    return random.choice([k for k in range(int(low), int(high) + 1) if k % 2 == 1])


def motion_kernel(size, angle_degrees):
    """Normalised line kernel of ``size`` pixels through the centre at ``angle_degrees`` (linear motion blur)."""
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle_degrees, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (size, size))
    return kernel / kernel.sum()


def random_blur(img, opt):
    """One of Gaussian / average / median / motion blur with the configured ranges (eq. 14's ``k``)."""
    kind = random.choice(opt.get('blur_types', ['gaussian', 'average', 'median', 'motion']))
    if kind == 'gaussian':
        return cv2.GaussianBlur(img, (0, 0), random.uniform(*opt.get('gaussian_sigma', (3, 15))))
    if kind == 'average':
        size = random_odd(*opt.get('average_kernel', (3, 15)))
        return cv2.blur(img, (size, size))
    if kind == 'median':
        return cv2.medianBlur(img, random_odd(*opt.get('median_kernel', (3, 15))))
    if kind == 'motion':
        size = random.randint(*opt.get('motion_kernel', (5, 25)))
        return cv2.filter2D(img, -1, motion_kernel(size, random.uniform(0, 180)))
    raise ValueError(f'Unknown blur type {kind!r}.')


def degrade(hr, opt):
    """(degraded LR uint8 RGB at ``lq_size``, possibly grayscaled HR) from an HR uint8 RGB face (eq. 14)."""
    if random.random() < opt.get('gray_prob', 0.3):  # applied to HR too, as the authors do
        hr = np.repeat(cv2.cvtColor(hr, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    lq = random_blur(hr, opt) if random.random() < opt.get('blur_prob', 0.5) else hr
    low, high = opt.get('down_size', (32, 128))
    size = random.randint(int(low), int(high) - 1) if high > low else int(low)
    interpolation = INTERPOLATIONS[random.choice(opt.get('interpolations', list(INTERPOLATIONS)))]
    lq = cv2.resize(lq, (size, size), interpolation=interpolation)
    if random.random() < opt.get('noise_prob', 0.2):
        sigma = random.uniform(*opt.get('noise_sigma', (0, 25.5)))
        lq = np.clip(lq + np.random.normal(0, sigma, lq.shape), 0, 255).round().astype(np.uint8)
    if random.random() < opt.get('jpeg_prob', 0.7):
        quality = random.randint(*opt.get('jpeg_quality', (40, 100)))
        ok, buffer = cv2.imencode('.jpg', lq[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        lq = cv2.imdecode(buffer, cv2.IMREAD_COLOR)[..., ::-1]
    lq_size = opt.get('lq_size', hr.shape[0])
    back = INTERPOLATIONS[opt.get('back_interpolation', 'cubic')]
    return np.ascontiguousarray(cv2.resize(lq, (lq_size, lq_size), interpolation=back)), hr


@DATASET_REGISTRY.register()
class FaceDegradationDataset(FaceBicubicDataset):
    """HR faces (LMDB or folder) with SPARNetHD's online degradation as LR.

    Options of :class:`FaceBicubicDataset` (``dataroot_gt``, ``io_backend``, ``gt_size``, flips/rescale) plus:
    gray_prob (0.3); blur_prob (0.5), blur_types, gaussian_sigma ([3, 15]), average_kernel ([3, 15]),
    median_kernel ([3, 15]), motion_kernel ([5, 25]); down_size ([32, 128): random size before the noise and
    JPEG; e.g. [8, 16] for 16x16 work), interpolations (all of cv2's nearest/linear/cubic/area/lanczos);
    noise_prob (0.2), noise_sigma ([0, 25.5] = 0.1 * 255); jpeg_prob (0.7), jpeg_quality ([40, 100]);
    lq_size (network input size; default gt_size as SPARNetHD, 16 for x8 work), back_interpolation ('cubic');
    val_seed (0): outside the train phase every face gets a fixed degradation seeded by ``val_seed + index``.
    """

    def __init__(self, opt):
        opt = dict(opt)
        opt.setdefault('scale', 1)
        opt.setdefault('use_rescale', False)
        super().__init__(opt)
        self.fixed_seed = None if opt.get('phase') == 'train' else opt.get('val_seed', 0)

    def __getitem__(self, index):
        """Training draws fresh degradations; validation gives face ``index`` the same one every time."""
        if self.fixed_seed is None:
            return super().__getitem__(index)
        python_state, numpy_state = random.getstate(), np.random.get_state()
        random.seed(self.fixed_seed + index)
        np.random.seed((self.fixed_seed + index) % 2**32)
        try:
            return super().__getitem__(index)
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)

    def make_lq(self, hr):
        lq, hr = degrade(np.asarray(hr), {'lq_size': self.gt_size, **self.opt})
        return Image.fromarray(lq), Image.fromarray(hr)
