"""Build BasicSR-format LMDBs of face images (HR, optionally a paired LR), validated and written atomically.

Layout (what ``basicsr.data.data_util.paths_from_lmdb`` and ``LmdbBackend`` read): an LMDB folder with
``data.mdb``/``lock.mdb`` whose values are PNG bytes, and ``meta_info.txt`` with one line per image:
``<key>.png (<h>,<w>,<c>) <png compression level>``. Keys contain no dots (BasicSR splits on the first one).
Each LMDB also holds ``build_info.json``: the build id shared by the HR and LR LMDBs of one paired build, its role
and face count; a paired dataset whose two LMDBs carry different ids is refused (``data_checks``).

A paired rebuild (``--overwrite``) replaces both LMDBs or neither: both are built completely beside their targets,
a journal (``<out>.replacing``) lists the renames, and a build or check that finds a journal of a killed
replacement completes it before anything reads the pair.
"""
import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from os import path as osp

import cv2
import numpy as np
from tqdm import tqdm

from mrr_plugin.data.face_image_io import BadImageError, read_image
from mrr_plugin.data.image_folder import ImageFolderError, scan_images
from mrr_plugin.utils.run_lock import file_lock

PNG_COMPRESSION = 1


@dataclass
class LmdbBuildReport:
    """What a build wrote and what it rejected (``bad`` maps file names to reasons)."""
    written: int = 0
    bad: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)


class LmdbBuildError(ValueError):
    """The build was refused or rejected input; nothing was left at the output paths."""


def io_backend_for(root):
    """BasicSR's ``io_backend`` for ``root``: ``{'type': 'lmdb'}`` for an LMDB of this layout, else disk."""
    is_lmdb = osp.isfile(osp.join(root, 'meta_info.txt')) and osp.isfile(osp.join(root, 'data.mdb'))
    return {'type': 'lmdb' if is_lmdb else 'disk'}


def lmdb_key(file_name):
    """LMDB key of an image file: its stem with dots replaced, as BasicSR cuts keys at the first dot."""
    return osp.splitext(file_name)[0].replace('.', '_')


def _read_checked(path, expected_size):
    image = read_image(path, name=osp.basename(path))
    if expected_size is not None and image.size != (expected_size, expected_size):
        raise BadImageError(f'{osp.basename(path)}: size {image.size[0]}x{image.size[1]}, '
                            f'expected {expected_size}x{expected_size}.')
    return np.asarray(image)


def _png_bytes(rgb):
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode('.png', bgr, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise BadImageError('PNG encoding failed.')
    return buffer.tobytes()


BUILD_INFO = 'build_info.json'


def _temporary_path(path):
    return f'{path.rstrip(os.sep)}.partial'


def _journal_path(path):
    return f'{path.rstrip(os.sep)}.replacing'


def read_build_info(root):
    """The ``build_info.json`` of an LMDB built here ({'build_id', 'role', 'faces'}), or None (another tool's)."""
    try:
        with open(osp.join(root, BUILD_INFO)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json_atomically(path, data):
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _replace_all(renames, journal_paths):
    """Move each complete ``(temporary, target)`` into place; the journals (written first) let a killed
    replacement be completed by :func:`finish_interrupted_replacement`."""
    for journal in journal_paths:
        _write_json_atomically(journal, renames)
    _finish(renames, journal_paths)


def _finish(renames, journal_paths):
    for tmp, out in renames:
        if osp.isdir(tmp):  # not yet moved
            if osp.exists(out):
                shutil.rmtree(out)
            os.replace(tmp, out)
    for journal in journal_paths:
        if osp.exists(journal):
            os.remove(journal)


def finish_interrupted_replacement(out):
    """Complete the replacement a killed paired build left half done at ``out`` (its journal lists every rename;
    the new LMDBs were complete before it was written). Returns True if there was one. Several processes may call
    this at once (DDP ranks' start-up checks): a lock on the journal serialises them."""
    journal = _journal_path(out)
    if not osp.exists(journal):
        return False
    lock_path = f'{journal}.lock'
    with file_lock(lock_path):  # portable (fcntl / msvcrt / a lock file)
        try:
            with open(journal) as f:
                renames = json.load(f)
        except FileNotFoundError:  # another process finished it while this one waited
            return True
        _finish(renames, [_journal_path(target) for _, target in renames])
    with contextlib.suppress(OSError):  # the journal is gone: a process arriving now has nothing to wait for
        os.remove(lock_path)
    return True


def build_face_lmdb(hr_folder,
                    hr_out,
                    lr_folder=None,
                    lr_out=None,
                    hr_size=128,
                    scale=8,
                    overwrite=False,
                    skip_bad=False,
                    names=None,
                    progress=True):
    """Validate every face and write HR (and paired LR) LMDBs.

    Each output is built under ``<out>.partial`` and renamed into place only when every image was written, so an
    interrupted build never leaves something that looks like a valid LMDB (a stale ``.partial`` is replaced by the
    next build). Raises :class:`LmdbBuildError` when an output exists (unless ``overwrite``), when LR and HR do not
    pair up, or when bad images are found and ``skip_bad`` is False; the message names every bad file.

    Args:
        hr_folder (str): Folder of HR face images (any format PIL reads).
        hr_out (str): Output LMDB folder for HR faces (conventionally ``*.lmdb``).
        lr_folder (str | None): Folder of paired LR faces with the same file stems.
        lr_out (str | None): Output LMDB folder for LR faces (required with ``lr_folder``).
        hr_size (int | None): Required HR size (square); None accepts any size (LR pairing is then skipped).
        scale (int): LR size must be ``hr_size // scale``.
        overwrite (bool): Replace existing outputs.
        skip_bad (bool): Leave bad images out (listed in the report) instead of failing.
        names (list[str] | None): Only these file names of ``hr_folder`` (default: all images).
        progress (bool): Show a tqdm progress bar.

    Returns:
        LmdbBuildReport
    """
    import lmdb

    if (lr_folder is None) != (lr_out is None):
        raise LmdbBuildError('Give both lr_folder and lr_out, or neither.')
    outputs = [hr_out] + ([lr_out] if lr_out else [])
    for out in outputs:
        finish_interrupted_replacement(out)
        if osp.exists(out) and not overwrite:
            raise LmdbBuildError(f'{out} already exists; pass overwrite=True (--overwrite) to replace it.')

    report = LmdbBuildReport()
    if names is None:  # entries that are not readable files (dangling links, FIFOs...) are bad images
        try:
            scan = scan_images(hr_folder)
        except ImageFolderError as error:
            raise LmdbBuildError(str(error)) from None
        names, report.bad = scan.names, dict(scan.bad)
    else:
        names = list(names)
    if not names:
        raise LmdbBuildError(f'No images in {hr_folder}.')
    keys = [lmdb_key(n) for n in names]
    non_ascii = [n for n in names if not n.isascii()]
    if non_ascii:
        raise LmdbBuildError(f'LMDB keys must be ASCII; rename these files: {non_ascii[:10]}.')
    if len(set(keys)) != len(keys):
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        raise LmdbBuildError(f'Several images map to the same LMDB key: {duplicates[:10]}.')

    lr_names = {}
    if lr_folder is not None:
        try:
            lr_by_stem = {osp.splitext(n)[0]: n for n in scan_images(lr_folder).names}
        except ImageFolderError as error:
            raise LmdbBuildError(str(error)) from None
        missing = [n for n in names if osp.splitext(n)[0] not in lr_by_stem]
        if missing and not skip_bad:
            raise LmdbBuildError(f'{len(missing)} HR faces have no LR partner in {lr_folder}: {missing[:10]}.')
        lr_names = {n: lr_by_stem.get(osp.splitext(n)[0]) for n in names}
    lr_size = hr_size // scale if hr_size else None

    temporaries = [_temporary_path(out) for out in outputs]
    for tmp in temporaries:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    map_size = 1 << 40  # address space only; the file grows with the data
    envs = [lmdb.open(tmp, map_size=map_size) for tmp in temporaries]
    metas = [[] for _ in outputs]
    try:
        txns = [env.begin(write=True) for env in envs]
        items = tqdm(list(zip(names, keys)), desc='LMDB', unit='img', disable=not progress)
        for count, (name, key) in enumerate(items):
            try:
                images = [_read_checked(osp.join(hr_folder, name), hr_size)]
                if lr_folder is not None:
                    if lr_names[name] is None:
                        raise BadImageError(f'{name}: no LR partner in {lr_folder}.')
                    images.append(_read_checked(osp.join(lr_folder, lr_names[name]), lr_size))
                    if hr_size is None and images[1].shape[0] * scale != images[0].shape[0]:
                        raise BadImageError(f'{name}: LR x{scale} does not give the HR size.')
            except BadImageError as error:
                report.bad[name] = str(error)
                continue
            for txn, meta, rgb in zip(txns, metas, images):
                txn.put(key.encode('ascii'), _png_bytes(rgb))
                meta.append(f'{key}.png ({rgb.shape[0]},{rgb.shape[1]},{rgb.shape[2]}) {PNG_COMPRESSION}\n')
            report.written += 1
            if count % 1000 == 999:
                for txn in txns:
                    txn.commit()
                txns = [env.begin(write=True) for env in envs]
        for txn in txns:
            txn.commit()
    finally:
        for env in envs:
            env.close()

    if (report.bad and not skip_bad) or report.written == 0:
        for tmp in temporaries:
            shutil.rmtree(tmp, ignore_errors=True)
        listing = '\n'.join(f'  {reason}' for reason in report.bad.values())
        raise LmdbBuildError(f'{len(report.bad)} bad images, nothing written (use skip_bad / --skip-bad to leave '
                             f'them out):\n{listing}' if report.bad else 'No image could be written.')

    build_id = uuid.uuid4().hex
    for tmp, meta, role in zip(temporaries, metas, ('HR', 'LR')):
        with open(osp.join(tmp, 'meta_info.txt'), 'w') as f:
            f.writelines(meta)
        _write_json_atomically(osp.join(tmp, BUILD_INFO), {'build_id': build_id, 'role': role, 'faces': len(meta)})
    _replace_all([list(pair) for pair in zip(temporaries, outputs)], [_journal_path(out) for out in outputs])
    report.outputs.extend(outputs)
    return report
