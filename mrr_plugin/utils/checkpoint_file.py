"""The one reader of checkpoint files (``.pth`` networks, ``.state`` training states, pretrained weights).

Every checkpoint the plugin reads goes through :func:`load_checkpoint`: ``torch.load(weights_only=True)``, i.e.
tensors, numbers, strings and containers only, so nothing in a file is ever run. A file that does not load so is one
:class:`UnsafeOrBrokenFile` sentence naming it and saying what it is (it holds Python objects, which are refused;
it is truncated or not a PyTorch file; it is empty), never a traceback and never advice to turn that safety off.
"""
import pickle
import re
from os import path as osp

import torch


class UnsafeOrBrokenFile(ValueError):
    """A checkpoint or state that does not load as plain data (truncated, or holding code); nothing in it ran."""


def _what_it_is(error):
    text = str(error)
    named = re.search(r'GLOBAL ([\w.]+)', text)
    if isinstance(error, pickle.UnpicklingError) or 'Weights only load failed' in text:
        what = f' ({named.group(1)})' if named else ''
        return (f'it holds Python objects{what} beside the tensors, which a checkpoint of weights never needs; '
                'such files are refused')
    if isinstance(error, EOFError) or 'zip archive' in text or 'central directory' in text:
        return 'it is truncated or not a PyTorch file'
    return f'{type(error).__name__}: {text.splitlines()[0][:120] if text else "unreadable"}'


def load_checkpoint(path, what=None):
    """The plain data of the checkpoint ``path`` (``map_location='cpu'``, ``weights_only=True``).

    Raises :class:`UnsafeOrBrokenFile` (one sentence, starting with ``what`` or the path) when the file is missing,
    empty, truncated, not a PyTorch file, or holds objects other than data; nothing in it was run."""
    name = what or path
    if not osp.isfile(path):
        raise UnsafeOrBrokenFile(f'{name} does not exist.' if what is None else f'{what}: {path} does not exist.')
    if osp.getsize(path) == 0:
        raise UnsafeOrBrokenFile(f'{path} does not load as plain tensors and numbers (it is empty); nothing in it '
                                 'was run.')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ValueError... by cause
        raise UnsafeOrBrokenFile(f'{path} does not load as plain tensors and numbers ({_what_it_is(error)}); '
                                 'nothing in it was run.') from None
