"""Decoding face images from bytes and PIL-exact resizing, shared by the face datasets and the LMDB builder."""
import io

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError


class BadImageError(ValueError):
    """An image that cannot be used: undecodable, or of the wrong size."""


def decode_rgb(data, name):
    """Bytes of any image format PIL reads -> RGB ``PIL.Image``; ``BadImageError`` naming ``name`` otherwise."""
    if data is None or len(data) == 0:
        raise BadImageError(f'{name}: empty file.')
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise BadImageError(f'{name}: cannot be decoded as an image ({error}).') from error
    return image.convert('RGB')


def bicubic(image, size):
    """PIL bicubic resize to a square ``size`` (how the DIC x8 test sets were made: 128 -> 16)."""
    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.BICUBIC)


def to_tensor(image):
    """RGB ``PIL.Image`` -> float32 tensor C x H x W in [0, 1] (BasicSR's convention)."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0)
