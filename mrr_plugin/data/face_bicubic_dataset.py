"""HR faces in, (LR, HR) pairs out: the LR is made on the fly with PIL's bicubic, as the MRRNet authors trained."""
import random
from os import path as osp

from basicsr.data.data_util import paths_from_folder, paths_from_lmdb
from basicsr.utils import FileClient
from basicsr.utils.registry import DATASET_REGISTRY
from PIL import Image
from torch.utils import data as data
from torchvision.transforms import RandomResizedCrop
from torchvision.transforms.functional import normalize

from mrr_plugin.data.face_image_io import bicubic, decode_rgb, to_tensor
from mrr_plugin.data.image_folder import IMAGE_EXTENSIONS


class FaceImageReader:
    """The face images of an LMDB (``io_backend: {type: lmdb}``, built by scripts/create_face_lmdb.py) or of a
    folder (``{type: disk}``; image files only, so a README beside the faces is ignored): sorted ``paths`` and
    ``read(index)`` -> RGB ``PIL.Image``. The file client opens lazily, in the dataloader worker that first reads."""

    def __init__(self, root, io_backend, client_key, option_name):
        self.io_backend_opt = dict(io_backend)
        self.client_key = client_key
        self.file_client = None
        if self.io_backend_opt['type'] == 'lmdb':
            self.io_backend_opt['db_paths'] = [root]
            self.io_backend_opt['client_keys'] = [client_key]
            if not osp.isfile(osp.join(root, 'meta_info.txt')):
                raise FileNotFoundError(f'{option_name} {root} has no meta_info.txt; is it an LMDB built by '
                                        'scripts/create_face_lmdb.py?')
            self.paths = paths_from_lmdb(root)
        else:
            if not osp.isdir(root):
                raise FileNotFoundError(f'{option_name} {root} is not a folder.')
            self.paths = sorted(p for p in paths_from_folder(root) if p.lower().endswith(IMAGE_EXTENSIONS))
        if not self.paths:
            raise ValueError(f'No faces found in {option_name} {root}.')

    def __len__(self):
        return len(self.paths)

    def read(self, index):
        if self.file_client is None:
            options = dict(self.io_backend_opt)
            self.file_client = FileClient(options.pop('type'), **options)
        path = self.paths[index]
        return decode_rgb(self.file_client.get(path, self.client_key), path)


@DATASET_REGISTRY.register()
class FaceBicubicDataset(data.Dataset):
    """Face dataset that reads HR faces (LMDB or folder) and makes the x``scale`` LR input itself.

    Training augmentation as in the authors' code: random horizontal flip, then a random rescale
    (``RandomResizedCrop`` to ``gt_size`` with area fraction ``rescale_range``, i.e. the paper's 1.0-1.3 zoom,
    aspect 3/4-4/3, PIL bicubic); LR = PIL bicubic ``gt_size -> gt_size // scale``. HR faces of another size
    are bicubic-resized to ``gt_size`` first. Randomness comes from ``random`` and ``torch``, which the training
    pipeline seeds per sample from (``manual_seed``, epoch, index) (``data/seeded_sampling.py``), so a run is
    reproducible with any number of workers and resumes exactly.

    Args:
        opt (dict): Config with keys
            dataroot_gt (str): HR faces: an LMDB folder (``io_backend.type: lmdb``) or an image folder.
            io_backend (dict): ``{type: lmdb}`` or ``{type: disk}``.
            gt_size (int): HR size. Default: 128.
            scale (int): Downscale factor, filled in by BasicSR from the top-level ``scale``. Default: 8.
            use_hflip (bool): Random horizontal flip (train only). Default: True.
            use_rescale (bool): Random rescale crop (train only). Default: True.
            rescale_range (list[float]): Area fraction range of the crop. Default: [0.7, 1.0].
            mean, std (list[float] | None): Optional normalisation of both tensors.
            phase (str): 'train' enables the augmentations.
    """

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        self.io_backend_opt = dict(opt['io_backend'])
        self.gt_folder = opt['dataroot_gt']
        self.gt_size = opt.get('gt_size', 128)
        self.scale = opt.get('scale', 8)
        if self.gt_size % self.scale:
            raise ValueError(f'gt_size {self.gt_size} is not a multiple of scale {self.scale}.')
        self.mean, self.std = opt.get('mean'), opt.get('std')
        is_train = opt.get('phase') == 'train'
        self.use_hflip = is_train and opt.get('use_hflip', True)
        self.use_rescale = is_train and opt.get('use_rescale', True)
        self.rescale_range = tuple(opt.get('rescale_range', (0.7, 1.0)))

        self.faces = FaceImageReader(self.gt_folder, self.io_backend_opt, 'gt', 'dataroot_gt')
        self.paths = self.faces.paths

    def __len__(self):
        return len(self.paths)

    def augment(self, hr):
        """Random flip and random rescale of an HR ``PIL.Image`` (training only)."""
        if self.use_hflip and random.random() < 0.5:
            hr = hr.transpose(Image.FLIP_LEFT_RIGHT)
        if self.use_rescale:
            top, left, height, width = RandomResizedCrop.get_params(hr, self.rescale_range, (3 / 4, 4 / 3))
            hr = bicubic(hr.crop((left, top, left + width, top + height)), self.gt_size)
        return hr

    def load_hr(self, index):
        """(key, HR ``PIL.Image`` at ``gt_size`` after augmentation)."""
        gt_path = self.paths[index]
        return gt_path, self.augment(bicubic(self.faces.read(index), self.gt_size))

    def make_lq(self, hr):
        """(LR, HR) ``PIL.Image`` pair: PIL bicubic ``gt_size -> gt_size // scale``."""
        return bicubic(hr, self.gt_size // self.scale), hr

    def __getitem__(self, index):
        gt_path, hr = self.load_hr(index)
        lq, hr = self.make_lq(hr)
        img_gt, img_lq = to_tensor(hr), to_tensor(lq)
        if self.mean is not None or self.std is not None:
            normalize(img_lq, self.mean, self.std, inplace=True)
            normalize(img_gt, self.mean, self.std, inplace=True)
        return {'lq': img_lq, 'gt': img_gt, 'lq_path': gt_path, 'gt_path': gt_path}
