"""The one image reader (size limits before decoding, every decoder error a BadImageError naming the file) and
PIL-exact resizing, shared by the face datasets, the LMDB builder, the checks and the commands."""
import contextlib
import io
import os
import re
import warnings

import numpy as np
import torch
from PIL import Image

from mrr_plugin.data.image_folder import entry_problem

# Largest image decoded: 2 x 8K UHD. PIL's own guard (Image.MAX_IMAGE_PIXELS) only warns below twice its 89 MP and is
# process-wide; this limit is checked on every image's header before its pixels are decoded.
MAX_IMAGE_PIXELS = 2 * 7680 * 4320


class BadImageError(ValueError):
    """An image that cannot be used: unreadable, undecodable, too large, or of the wrong size."""


@contextlib.contextmanager
def _opened(opener):
    """``opener()``'s lazily opened image without PIL's DecompressionBombWarning (sizes are checked here)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        with opener() as image:
            yield image


def _decoded(opener, name, max_pixels):
    """RGB ``PIL.Image`` from ``opener()`` (a lazily opened image: only the header is read), its size checked
    against ``max_pixels`` before the pixels are decoded; any decoder error is a BadImageError naming ``name``."""
    try:
        with _opened(opener) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise BadImageError(f'{name}: its header declares {width}x{height} pixels, more than the '
                                    f'{max_pixels / 1e6:.0f}-megapixel limit; not decoded.')
            image.load()
            return image.convert('RGB')
    except BadImageError:
        raise
    except Image.DecompressionBombError as error:  # PIL's own limit, checked inside Image.open
        pixels = re.search(r'\((\d+) pixels\)', str(error))
        declared = f'{int(pixels[1]):,} pixels' if pixels else 'more pixels than PIL allows'
        raise BadImageError(f'{name}: its header declares {declared}, more than the {max_pixels / 1e6:.0f}-megapixel '
                            'limit; not decoded.') from None
    except MemoryError:
        raise BadImageError(f'{name}: not enough memory to decode it.') from None
    except Exception as error:  # PIL raises OSError, SyntaxError, ValueError, struct.error, EOFError... by format
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise BadImageError(f'{name}: cannot be decoded as an image ({reason}).') from None


def decode_rgb(data, name, max_pixels=MAX_IMAGE_PIXELS):
    """Bytes of any image format PIL reads -> RGB ``PIL.Image``; ``BadImageError`` naming ``name`` otherwise."""
    if data is None or len(data) == 0:
        raise BadImageError(f'{name}: empty file.')
    return _decoded(lambda: Image.open(io.BytesIO(data)), name, max_pixels)


def read_image(path, max_pixels=MAX_IMAGE_PIXELS, name=None):
    """The one image reader: RGB ``PIL.Image`` of the file ``path``. Only regular files are opened (a FIFO or
    device named like an image would block or never end); the header's size is checked before decoding; every
    problem is a BadImageError naming the file (as ``name`` if given)."""
    name = name or path
    problem = entry_problem(path)
    if problem is not None:
        raise BadImageError(f'{name}: {problem}.')
    if os.path.getsize(path) == 0:
        raise BadImageError(f'{name}: empty file.')
    return _decoded(lambda: Image.open(path), name, max_pixels)


def image_size(source, name=None):
    """``(width, height)`` from the header of an image file path or binary stream (pixels not decoded);
    BadImageError naming it (``name``, else the path) when it is not a regular, non-empty file with an image header
    PIL reads."""
    name = name or source
    if isinstance(source, str):
        problem = entry_problem(source)
        if problem is not None:
            raise BadImageError(f'{name}: {problem}.')
        if os.path.getsize(source) == 0:
            raise BadImageError(f'{name}: empty file.')
    try:
        with _opened(lambda: Image.open(source)) as image:
            return image.size
    except Exception as error:  # UnidentifiedImageError, OSError, SyntaxError, ValueError, DecompressionBombError
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise BadImageError(f'{name}: not an image ({reason}).') from None


def bicubic(image, size):
    """PIL bicubic resize to a square ``size`` (how the DIC x8 test sets were made: 128 -> 16)."""
    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.BICUBIC)


def to_tensor(image):
    """RGB ``PIL.Image`` -> float32 tensor C x H x W in [0, 1] (BasicSR's convention)."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0)
