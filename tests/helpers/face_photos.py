"""Real photos with faces at known places: real faces (the team's dev faces, or the face of scikit-image's
astronaut, which ships offline with scikit-image) pasted, scaled, into scikit-image's real photographs, plus a
network that paints every face one colour, so where a restored face landed can be read off the output
numerically."""
import numpy as np
import torch
from PIL import Image
from skimage import data

BACKGROUNDS = ('coffee', 'chelsea', 'rocket')
RED = (255, 0, 0)
# The stand-in network below paints faces one colour and the random-weight networks of the plumbing tests do not
# reproduce their inputs, and the photos' faces are 48-144 px for 16-px inputs: tests of detecting, cropping and
# pasting back turn off the restorer's size and consistency guards (tests/test_restoration/test_face_guards.py
# tests the guards, on by default, themselves).
NO_GUARDS = {'max_face_scale': 0, 'max_lr_error': 0}
NO_GUARD_ARGS = ['--max-face-scale', '0', '--max-lr-error', '0']


def background(name, size=(640, 480)):
    return np.asarray(Image.fromarray(getattr(data, name)()).resize(size, Image.BICUBIC))


# the DIC-style square crop around the astronaut's face (MTCNN box (178, 61)-(267, 174): side x 1.3, centred)
ASTRONAUT_FACE = (slice(42, 192), slice(147, 297))


def write_astronaut_faces(folder):
    """``[astronaut_face.png, astronaut_face_mirrored.png]``: the real face of scikit-image's astronaut as a 128x128
    DIC-style crop, and its mirror image (two different real faces for composites on any machine)."""
    face = data.astronaut()[ASTRONAUT_FACE]
    paths = []
    for name, pixels in (('astronaut_face.png', face), ('astronaut_face_mirrored.png', face[:, ::-1])):
        paths.append(str(folder / name))
        Image.fromarray(np.ascontiguousarray(pixels)).resize((128, 128), Image.BICUBIC).save(paths[-1])
    return paths


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


class BicubicFace(torch.nn.Module):
    """A stand-in x8 face network that upscales its input bicubically: a faithful, if blurry, restoration."""

    def __init__(self, in_size=128, upscale=8):
        super().__init__()
        self.in_size, self.upscale = in_size, upscale

    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=self.upscale, mode='bicubic').clamp(0, 1)


def painted_region(image, colour=RED):
    """Boolean map of the pixels that are exactly ``colour``."""
    return np.all(image == np.array(colour, np.uint8), axis=-1)
