"""Real photos with faces at known places: the team's real dev faces pasted, scaled, into scikit-image's real
photographs (which ship offline with scikit-image), plus a network that paints every face one colour, so where a
restored face landed can be read off the output numerically."""
import numpy as np
import torch
from PIL import Image
from skimage import data

BACKGROUNDS = ('coffee', 'chelsea', 'rocket')
RED = (255, 0, 0)


def background(name, size=(640, 480)):
    return np.asarray(Image.fromarray(getattr(data, name)()).resize(size, Image.BICUBIC))


def composite(face_paths, placements, background_name='coffee'):
    """A photo with ``face_paths[i]`` (a DIC 128x128 crop) pasted at ``placements[i] = (x, y, side)``."""
    photo = background(background_name).copy()
    for path, (x, y, side) in zip(face_paths, placements):
        face = Image.open(path).convert('RGB').resize((side, side), Image.BICUBIC)
        photo[y:y + side, x:x + side] = np.asarray(face)
    return photo


class PaintFace(torch.nn.Module):
    """A stand-in x8 face network (skeleton attributes ``in_size`` / ``upscale``) that outputs one colour."""

    def __init__(self, colour=RED, in_size=128, upscale=8):
        super().__init__()
        self.in_size, self.upscale = in_size, upscale
        self.register_buffer('colour', torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1) / 255)

    def forward(self, x):
        return self.colour.expand(x.shape[0], 3, x.shape[-2] * self.upscale, x.shape[-1] * self.upscale).clone()


def painted_region(image, colour=RED):
    """Boolean map of the pixels that are exactly ``colour``."""
    return np.all(image == np.array(colour, np.uint8), axis=-1)
