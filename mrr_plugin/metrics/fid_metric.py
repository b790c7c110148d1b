"""FID between two sets of faces with BasicSR's FID Inception (``calculate_fid``, pytorch-fid's weights), read from a
local file only.

Heusel et al., NeurIPS 2017: FID = ||mu_1 - mu_2||^2 + Tr(C_1 + C_2 - 2 (C_1 C_2)^(1/2)) over the 2048-d pool
features of Inception-v3 with the TF-FID weights (``pt_inception-2015-12-05-6726825d.pth``), images resized to
299x299 bilinearly and scaled to [-1, 1] (BasicSR's ``scripts/metrics/calculate_fid_folder.py``). Face-SR papers
compute it between the SR and HR test faces (e.g. 1,000 CelebA faces); with a few hundred faces the value is
biased upwards, so compare methods on the same set only.
"""
import contextlib
from os import path as osp

import numpy as np
import torch
from tqdm import tqdm

from mrr_plugin.utils.checkpoint_file import load_checkpoint

FID_WEIGHTS_FILE = 'pt_inception-2015-12-05-6726825d.pth'
FID_WEIGHTS_URL = 'https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/' + FID_WEIGHTS_FILE


def fid_weights_path(weights_dir=None):
    """``<weights_dir>/<file>``, else BasicSR's ``experiments/pretrained_models/<file>``, else torch hub's cache;
    FileNotFoundError with one sentence when none exists (nothing is downloaded)."""
    from mrr_plugin.utils import project_root
    candidates = [osp.join(weights_dir, FID_WEIGHTS_FILE)] if weights_dir else []
    candidates += [osp.join(project_root(), 'experiments', 'pretrained_models', FID_WEIGHTS_FILE),
                   osp.join(torch.hub.get_dir(), 'checkpoints', FID_WEIGHTS_FILE)]
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'FID needs {FID_WEIGHTS_FILE}: download {FID_WEIGHTS_URL} on a machine with internet and '
                            f'put it in {weights_dir or "the folder given as --weights-dir"}; nothing is downloaded '
                            'at run time.')


@contextlib.contextmanager
def _basicsr_reads(path):
    """BasicSR's FID Inception loads its weights from the module constant ``LOCAL_FID_WEIGHTS`` (a path relative to
    the working directory) and downloads them when that file is absent; point it at ``path`` while building."""
    from basicsr.archs import inception
    saved = inception.LOCAL_FID_WEIGHTS
    inception.LOCAL_FID_WEIGHTS = path
    try:
        yield
    finally:
        inception.LOCAL_FID_WEIGHTS = saved


def load_fid_inception(weights_dir=None, device='cpu'):
    """BasicSR's ``InceptionV3`` (pool3 features, input resized to 299, expects [-1, 1]) with the local weights."""
    from basicsr.archs.inception import InceptionV3
    path = fid_weights_path(weights_dir)
    load_checkpoint(path)  # plain tensors only, before basicsr reads it
    with _basicsr_reads(path):
        network = InceptionV3([3], resize_input=True, normalize_input=False)
    return network.eval().to(device)


@torch.no_grad()
def inception_features(images, inception, batch_size=32, device='cpu', desc='FID features'):
    """(N, 2048) float64 pool features of RGB uint8 images (HxWx3), ``batch_size`` at a time, with a progress bar."""
    features = []
    for start in tqdm(range(0, len(images), batch_size), desc=desc, unit='batch', leave=False):
        batch = torch.from_numpy(np.stack(images[start:start + batch_size])).permute(0, 3, 1, 2).to(device)
        batch = batch.float() / 127.5 - 1
        features.append(inception(batch)[0].flatten(1).double().cpu())
    return torch.cat(features).numpy()


def feature_statistics(features):
    return features.mean(0), np.cov(features, rowvar=False)


def fid_of_statistics(first, second):
    """FID between two ``(mean, covariance)`` pairs.

    The same number as BasicSR's ``calculate_fid`` (tested), computed through symmetric eigen-decompositions:
    Tr((C_1 C_2)^(1/2)) = sum sqrt(eig(C_1^(1/2) C_2 C_1^(1/2))), a symmetric PSD matrix. BasicSR's general
    ``scipy.linalg.sqrtm`` of the non-symmetric product fails ("Imaginary component") on the rank-deficient
    covariances of test sets smaller than the 2048 features (the 1,000-face CelebA split, a few hundred dev faces).
    """
    (mu1, cov1), (mu2, cov2) = first, second
    values, vectors = np.linalg.eigh((cov1 + cov1.T) / 2)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    product = root1 @ cov2 @ root1
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0, None)).sum()
    return float(np.sum((mu1 - mu2)**2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_root)
