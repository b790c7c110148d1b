"""Read errors that name the dataset and the face, and ``skip_bad: true`` to train past unreadable faces.

A face that cannot be read stops BasicSR's loader with the decoder's message (``'NoneType' object has no attribute
'astype'``, ``Scale mismatches``) and no file name, hours into a run. :class:`CheckedSamples` wraps any dataset
(ours or BasicSR's, e.g. ``PairedImageDataset``): an error while loading sample ``i`` becomes a
:class:`SampleReadError` naming the option (``datasets.train``), the dataset's name and the file(s) of sample ``i``.
With ``skip_bad: true`` in the dataset's options the face is replaced by the next readable one instead, and each
replacement is a warning line in the log.
"""
import logging
from os import path as osp

from mrr_plugin.data.dataset_wrapper import DatasetWrapper
from mrr_plugin.data.face_image_io import BadImageError, decode_rgb

DATA_ERROR_EXIT = 4  # exit status of the entry points when a face cannot be read


class SampleReadError(RuntimeError):
    """A sample of a dataset could not be read; the message names the dataset and the file."""


def sample_files(dataset, index):
    """The file(s) or LMDB key(s) sample ``index`` reads, as text (BasicSR's ``paths`` entries: a path or a dict of
    ``*_path``), with the dataset's roots."""
    paths = getattr(dataset, 'paths', None)
    entry = paths[index] if paths is not None and 0 <= index < len(paths) else None
    opt = getattr(dataset, 'opt', None) or {}
    roots = ', '.join(f'{k} {v}' for k, v in opt.items() if k.startswith('dataroot') and isinstance(v, str))
    if isinstance(entry, dict):
        files = [str(v) for k, v in entry.items() if k.endswith('_path')]
        entry = ', '.join([f for f in files if not _decodes(f)] or files)  # the culprit of a pair, when on disk
    return f'{entry} (in {roots})' if entry is not None else f'sample {index} (in {roots})'


def _decodes(path):
    """False only for a file on disk that does not decode as an image."""
    if not osp.isfile(path):
        return True
    try:
        with open(path, 'rb') as f:
            decode_rgb(f.read(), path)
        return True
    except BadImageError:
        return False


class CheckedSamples(DatasetWrapper):
    """``dataset`` whose read errors name ``where`` and the file; ``skip_bad`` replaces such faces."""

    def __init__(self, dataset, where):
        super().__init__(dataset)
        self.where = where
        self.skip_bad = bool((getattr(dataset, 'opt', None) or {}).get('skip_bad', False))
        self.skipped = 0

    def describe(self, index, error):
        name = (getattr(self.dataset, 'opt', None) or {}).get('name', type(self.dataset).__name__)
        return f'{self.where} ({name}): cannot read {sample_files(self.dataset, index)}: {error}'

    def __getitem__(self, index):
        for attempt in range(len(self.dataset)):
            candidate = (index + attempt) % len(self.dataset)
            try:
                return self.dataset[candidate]
            except Exception as error:  # any decoder's error: named here, never a bare traceback
                message = self.describe(candidate, f'{type(error).__name__}: {error}')
                if not self.skip_bad:
                    raise SampleReadError(message) from None
                self.skipped += 1
                logging.getLogger('basicsr').warning(f'skip_bad: {message}; using the next face instead '
                                                     f'({self.skipped} skipped by this loader process so far).')
        raise SampleReadError(f'{self.where}: no face of the dataset could be read.')


def first_line(error):
    """The message of a :class:`SampleReadError`, also when a DataLoader worker raised it (torch then prefixes its
    own traceback text)."""
    text = str(error)
    marker = f'{SampleReadError.__name__}: '
    return text.rsplit(marker, 1)[-1].strip().splitlines()[0] if marker in text else text.splitlines()[0]
