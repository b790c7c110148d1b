"""Evaluate one method on a paired face test set: SR outputs, per-image metrics, cost; cached per method."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import torch
from basicsr.data import build_dataset
from tqdm import tqdm

from mrr_plugin.data.checked_samples import CheckedSamples
from mrr_plugin.data.data_checks import dataset_problems
from mrr_plugin.data.face_lmdb import io_backend_for
from mrr_plugin.evaluation.profiling import count_parameters, gmacs_per_image, measure_speed
from mrr_plugin.metrics.dic_psnr_ssim_metric import psnr_ssim_dic_batch
from mrr_plugin.metrics.face_structure_metric import (ALIGNMENT_FILE, RECOGNITION_FILE, cosine_similarity,
                                                      identity_embedding, landmarks_68, mean_landmark_distance)
from mrr_plugin.metrics.fid_metric import (feature_statistics, fid_of_statistics, fid_weights_path, inception_features,
                                           load_fid_inception)
from mrr_plugin.metrics.lpips_metric import lpips_backbone_path, lpips_distance
from mrr_plugin.metrics.niqe_set_metric import calculate_niqe_set
from mrr_plugin.metrics.paper_protocols_metric import PROTOCOLS
from mrr_plugin.utils import facexlib_weights
from mrr_plugin.utils.visual import rgb_to_batch, tensor_to_rgb, write_png

DEFAULT_PROTOCOLS = ('dic', 'basicsr')
RECORD_FORMAT = 2  # 2: per-face values stored (intervals, paired tests); records of another format are recomputed
OTHER_COLUMNS = [
    # key, header, format, note
    ('lpips', 'LPIPS ↓', '{:.4f}', 'LPIPS v0.1, AlexNet'),
    ('landmark_distance', 'Landmark dist. (px) ↓', '{:.3f}', 'mean distance of 68 facexlib landmarks, SR vs HR'),
    ('identity', 'Identity ↑', '{:.4f}', 'cosine similarity of ArcFace (facexlib) embeddings, SR vs HR'),
    ('fid', 'FID ↓', '{:.2f}', 'SR set vs HR set, BasicSR\'s FID Inception (pytorch-fid weights)'),
    ('niqe', 'NIQE ↓', '{:.3f}', 'no reference: BasicSR\'s NIQE, 96x96 blocks of all SR faces pooled'),
    ('params_m', 'Params (M)', '{:.2f}', ''),
    ('gmacs', 'GMACs', '{:.2f}', 'per 16x16 input, torch.utils.flop_counter'),
    ('latency_ms', 'Latency b1 (ms)', '{:.1f}', 'median after warm-up'),
    ('throughput', 'Throughput (img/s)', '{:.1f}', 'median after warm-up, batch N'),
]


def columns(protocols=DEFAULT_PROTOCOLS):
    """``(key, header, format, note)`` of the table: a PSNR and an SSIM column per protocol
    (:data:`~mrr_plugin.metrics.paper_protocols_metric.PROTOCOLS`), then the other metrics and the cost."""
    found = []
    for protocol in protocols:
        source = PROTOCOLS[protocol][2]
        found += [(f'psnr_{protocol}', f'PSNR {protocol} (dB) ↑', '{:.2f}', source),
                  (f'ssim_{protocol}', f'SSIM {protocol} ↑', '{:.4f}', '')]
    return found + OTHER_COLUMNS


def load_test_set(hr, lr, limit=None, scale=8):
    """``[(name, lr_rgb_uint8, hr_rgb_uint8)]`` of a paired test set (folders, or LMDBs with meta_info.txt).

    The faces are checked first (:mod:`~mrr_plugin.data.data_checks`: readable headers, the same faces on both
    sides at ``scale``, LMDBs of one build): ValueError with one line per problem; a face that still fails to
    decode raises :class:`~mrr_plugin.data.checked_samples.SampleReadError` naming it."""
    opt = {'name': 'benchmark', 'type': 'PairedImageDataset', 'dataroot_gt': hr, 'dataroot_lq': lr,
           'io_backend': io_backend_for(hr), 'phase': 'test', 'scale': scale}
    problems = dataset_problems('', opt, scale, labels={'dataroot_gt': '--hr', 'dataroot_lq': '--lr'})
    if problems:
        raise ValueError('\n'.join(problems))
    paired = build_dataset(opt)
    # BasicSR lists a folder in the file system's order, which differs between machines: sorted, the faces of
    # --limit N and the order of every per-face file are the same everywhere
    paired.paths.sort(key=lambda pair: pair['gt_path'])
    dataset = CheckedSamples(paired, '--hr/--lr')
    count = len(dataset) if limit is None else min(limit, len(dataset))
    faces = []
    for index in tqdm(range(count), desc='test set', unit='face'):
        item = dataset[index]
        name = osp.splitext(osp.basename(item['gt_path']))[0]
        faces.append((name, tensor_to_rgb(item['lq']), tensor_to_rgb(item['gt'])))
    return faces


def load_unpaired_set(lr, limit=None, lr_size=16):
    """``[(name, lr_rgb_uint8, None)]`` of real low-quality faces without ground truth (a folder, e.g. the WIDER
    faces stored upsampled to 128): each reduced to ``lr_size`` with area interpolation (see
    :func:`~mrr_plugin.data.unpaired_face_dataset.resize_real_lr`). Unreadable files: ValueError naming them."""
    from mrr_plugin.data.face_image_io import BadImageError, read_image
    from mrr_plugin.data.image_folder import list_images
    from mrr_plugin.data.unpaired_face_dataset import resize_real_lr
    if not osp.isdir(lr):
        raise ValueError(f'--lr {lr}: without --hr, give a folder of real low-quality faces.')
    names = list_images(lr)[:limit]
    if not names:
        raise ValueError(f'--lr {lr}: no image files there.')
    faces, bad = [], []
    for name in tqdm(names, desc='real faces', unit='face'):
        try:
            faces.append((osp.splitext(name)[0], np.asarray(resize_real_lr(read_image(osp.join(lr, name)), lr_size)),
                          None))
        except BadImageError:
            bad.append(name)
    if bad:
        raise ValueError(f'--lr {lr}: {len(bad)} file(s) cannot be read as images, e.g. {bad[:3]}.')
    return faces


def faces_digest(faces):
    """SHA-256 of the test set's content: every face's name and the bytes and shapes of its LR and HR images, so a
    stored result is reused only for the very same faces (not for another set whose files have the same names)."""
    digest = hashlib.sha256()
    for name, lr, hr in faces:
        for part in (name.encode(), lr, hr):
            if isinstance(part, np.ndarray):
                digest.update(f'{part.shape}{part.dtype}'.encode())
                part = np.ascontiguousarray(part)
            digest.update(b'-' if part is None else part)
    return digest.hexdigest()


def _uint8_batches(outputs, faces, size, device):
    """``(sr, hr)`` uint8 tensors (N, 3, H, W) on ``device``, ``size`` faces at a time."""
    for start in range(0, len(faces), size):
        sr = np.stack(outputs[start:start + size])
        hr = np.stack([face[2] for face in faces[start:start + size]])
        yield (torch.from_numpy(sr).permute(0, 3, 1, 2).to(device), torch.from_numpy(hr).permute(0, 3, 1, 2).to(device))


def lr_batch(faces, device):
    """The LR faces of ``faces`` as one float batch in [0, 1] on ``device``."""
    return rgb_to_batch([face[1] for face in faces], device)


def super_resolve_all(method, faces, scale, batch_size, device):
    """SR uint8 RGB images of every face, in batches."""
    outputs = []
    for start in tqdm(range(0, len(faces), batch_size), desc=f'SR {method.name}', unit='batch'):
        sr = method.super_resolve(lr_batch(faces[start:start + batch_size], device), scale)
        outputs.extend(tensor_to_rgb(image) for image in sr.cpu())
    return outputs


def missing_weights(options):
    """``{metric: None if its weights are present, else the one-sentence reason}`` for the optional metrics."""
    checks = {'lpips': lambda: lpips_backbone_path('alex', options.get('lpips_backbone')),
              'landmark_distance': lambda: facexlib_weights(options.get('weights_dir'), ALIGNMENT_FILE,
                                                            'The landmark distance'),
              'identity': lambda: facexlib_weights(options.get('weights_dir'), RECOGNITION_FILE,
                                                   'The identity similarity'),
              'fid': lambda: fid_weights_path(options.get('weights_dir'))}
    reasons = {}
    for key, check in checks.items():
        try:
            check()
            reasons[key] = None
        except FileNotFoundError as error:
            reasons[key] = str(error)
    return reasons


def score(faces, outputs, options, device, missing):
    """Metrics of SR ``outputs`` against the HR faces: ``(means, per_face, notes)``. ``per_face`` holds the value of
    each face (in the order of ``faces``) for the metrics defined per face (PSNR/SSIM per protocol, LPIPS, landmark
    distance, identity); FID and NIQE are properties of the whole set (means only). Metrics whose weights are
    ``missing`` get a note. Faces without ground truth (HR None) get NIQE only."""
    if faces and faces[0][2] is None:
        return {'niqe': calculate_niqe_set(outputs)}, {}, {}
    per_face = {}
    for protocol in options.get('protocols', DEFAULT_PROTOCOLS):
        if protocol == 'dic' and str(device).startswith('cuda'):  # batched in torch on the GPU, same numbers
            pairs = [psnr_ssim_dic_batch(sr, hr) for sr, hr in _uint8_batches(outputs, faces, 64, device)]
            psnr = torch.cat([p for p, _ in pairs]).cpu().numpy()
            ssim = torch.cat([s for _, s in pairs]).cpu().numpy()
        else:  # OpenCV's filtering beats float64 torch convolutions on a CPU (benchmark_speed.py --metrics)
            psnr_of, ssim_of, _ = PROTOCOLS[protocol]
            psnr = [psnr_of(sr, hr) for sr, (_, _, hr) in zip(outputs, faces)]
            ssim = [ssim_of(sr, hr) for sr, (_, _, hr) in zip(outputs, faces)]
        per_face[f'psnr_{protocol}'] = psnr
        per_face[f'ssim_{protocol}'] = ssim
    if missing['lpips'] is None:
        values = [lpips_distance(sr / 255.0, hr / 255.0, 'alex', options.get('lpips_backbone')).cpu()
                  for sr, hr in _uint8_batches(outputs, faces, 32, device)]
        per_face['lpips'] = torch.cat(values).reshape(-1)
    weights_dir = options.get('weights_dir')
    if missing['landmark_distance'] is None:
        per_face['landmark_distance'] = [
            mean_landmark_distance(landmarks_68(sr, weights_dir, device), landmarks_68(hr, weights_dir, device))
            for sr, (_, _, hr) in zip(outputs, faces)]
    if missing['identity'] is None:
        similarities = [cosine_similarity(identity_embedding(sr / 255.0, weights_dir),
                                          identity_embedding(hr / 255.0, weights_dir)).cpu()
                        for sr, hr in _uint8_batches(outputs, faces, 32, device)]
        per_face['identity'] = torch.cat(similarities).reshape(-1)
    per_face = {key: [float(v) for v in np.asarray(values, np.float64).reshape(-1)] for key, values in per_face.items()}
    results = {key: float(np.mean(values)) for key, values in per_face.items()}
    if missing['fid'] is None:
        results['fid'] = fid_against_hr(outputs, faces, weights_dir, device)
    results['niqe'] = calculate_niqe_set(outputs)
    return results, per_face, {key: reason for key, reason in missing.items() if reason is not None}


_FID_REFERENCE = {}  # (HR face names, weights dir, device) -> (inception, HR feature statistics), shared by methods


def fid_against_hr(outputs, faces, weights_dir, device, batch_size=32):
    """FID of the SR ``outputs`` against the HR faces; the Inception and the HR statistics are computed once per
    test set and reused for every method of the run."""
    key = (tuple(face[0] for face in faces), weights_dir, str(device))
    if key not in _FID_REFERENCE:
        inception = load_fid_inception(weights_dir, device)
        hr = feature_statistics(inception_features([face[2] for face in faces], inception, batch_size, device,
                                                   'FID HR features'))
        _FID_REFERENCE.clear()
        _FID_REFERENCE[key] = inception, hr
    inception, hr = _FID_REFERENCE[key]
    sr = feature_statistics(inception_features(outputs, inception, batch_size, device))
    return fid_of_statistics(sr, hr)


def cost(method, scale, options, device):
    """Parameters, GMACs and measured speed (blank parameters/GMACs for bicubic)."""
    results = {}
    if method.network is not None:
        results['params_m'] = count_parameters(method.network) / 1e6
        results['gmacs'] = gmacs_per_image(method.network, device=device)
    results.update(measure_speed(lambda lr: method.super_resolve(lr, scale), batch=options.get('timing_batch', 8),
                                 runs=options.get('timing_runs', 5), device=device))
    return results


def evaluate_method(method, faces, out_dir, options, scale=8, device='cpu', force=False):
    """Evaluate ``method`` (or reuse ``out_dir/methods/<name>.json`` when its fingerprint matches: the digests of
    the method's files (:meth:`Method.fingerprint`) and of the faces (:func:`faces_digest`), the options and the
    protocols).

    Writes that JSON and the SR images of the grid faces (all faces with ``options['save_images']``) under
    ``out_dir/sr/<name>/``. Returns the JSON record.
    """
    record_path = osp.join(out_dir, 'methods', f'{method.name}.json')
    missing = missing_weights(options)
    fingerprint = {'format': RECORD_FORMAT, 'method': method.fingerprint(), 'faces': faces_digest(faces),
                   'options': options,
                   'optional_metrics': {key: reason is None for key, reason in missing.items()}}
    if not force and osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
        if record.get('fingerprint') == json.loads(json.dumps(fingerprint)):
            print(f'{method.name}: reusing {record_path} (use --force to recompute)')
            return record
    if method.from_folder:  # made elsewhere: scored, not run (no cost columns)
        outputs = [method.outputs[face[0]] for face in faces]
    else:
        outputs = super_resolve_all(method, faces, scale, options.get('batch_size', 8), device)
    results, per_face, notes = score(faces, outputs, options, device, missing)
    if not method.from_folder:
        results.update(cost(method, scale, options, device))
    sr_dir = osp.join(out_dir, 'sr', method.name)
    os.makedirs(sr_dir, exist_ok=True)
    keep = len(faces) if options.get('save_images') else options.get('grid_faces', 6)
    for (name, _, _), sr in list(zip(faces, outputs))[:keep]:
        write_png(osp.join(sr_dir, f'{name}.png'), sr)
    record = {'name': method.name, 'description': method.description, 'results': results, 'notes': notes,
              'faces': [face[0] for face in faces], 'per_face': per_face, 'fingerprint': fingerprint}
    os.makedirs(osp.dirname(record_path), exist_ok=True)
    with open(record_path + '.partial', 'w') as f:
        json.dump(record, f, indent=1)
    os.replace(record_path + '.partial', record_path)
    return json.loads(json.dumps(record))
