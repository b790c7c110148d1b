import numpy as np
import pytest
import torch
from PIL import Image

from mrr_plugin.archs.pil_resize import PILBicubicUpsample, keys_cubic, pil_bicubic_matrix, pil_bicubic_resize
from tests.helpers.authors_reference import pil_upsample


def _to_batch(image):
    return torch.from_numpy(np.asarray(image, np.float64).transpose(2, 0, 1)[None] / 255.0)


def _to_uint8(batch):
    return (batch[0].numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)


def _differing_pixels(images, size, dtype=torch.float64):
    """How many pixels of ours differ from ``PIL.Image.resize(BICUBIC)`` over ``images`` (size: int or (h, w))."""
    size = (size, size) if isinstance(size, int) else size
    differing = 0
    for image in images:
        expected = np.asarray(image.resize(size[::-1], Image.BICUBIC)).astype(int)
        ours = _to_uint8(pil_bicubic_resize(_to_batch(image).to(dtype), size, quantize=True).double()).astype(int)
        differing += int((ours != expected).sum())
    return differing


def test_kernel_is_keys_a_minus_half():
    assert keys_cubic(np.array([0.0]))[0] == 1.0
    assert keys_cubic(np.array([1.0, 2.0, 2.5])).tolist() == [0.0, 0.0, 0.0]
    assert keys_cubic(np.array([0.5]))[0] == pytest.approx(0.5625)  # a = -0.5; torch's a = -0.75 gives 0.59375
    for n_in, n_out in [(16, 128), (128, 16), (37, 128)]:
        np.testing.assert_allclose(pil_bicubic_matrix(n_in, n_out).sum(1), 1.0)


def test_is_pil_bit_for_bit_on_synthetic_faces(synthetic_faces):
    import glob
    hr = [Image.open(p).convert('RGB') for p in sorted(glob.glob(f'{synthetic_faces}/*.png'))]
    lr = [image.resize((16, 16), Image.BICUBIC) for image in hr]
    for images, size in ((hr, 16), (lr, 128)):
        assert _differing_pixels(images, size) == 0
        assert _differing_pixels(images, size, torch.float32) == 0


def test_is_pil_bit_for_bit_on_photos_and_noise():
    """PIL's fixed-point sums, not a float approximation of them: a float resize rounded to 8 bits misses PIL on
    about one pixel in 10,000 (its ties), which this would count. Resizes by one factor on both axes, up and down,
    on scikit-image's photos and on 8-bit noise (every tie and every clip between the passes)."""
    from skimage import data
    astronaut, coffee = Image.fromarray(data.astronaut()), Image.fromarray(data.coffee()).crop((0, 0, 600, 396))
    noise = np.random.default_rng(0).integers(0, 256, (6, 24, 40, 3), dtype=np.uint8)
    cases = [([astronaut], 64), ([astronaut], 16), ([astronaut.resize((16, 16), Image.BICUBIC)], 128),
             ([coffee], (132, 200)), ([coffee], (33, 50)), ([coffee.resize((50, 33), Image.BICUBIC)], (264, 400)),
             ([Image.fromarray(n) for n in noise], (192, 320)), ([Image.fromarray(n) for n in noise], (6, 10)),
             ([Image.fromarray(n) for n in noise], (72, 120))]
    for images, size in cases:
        assert _differing_pixels(images, size) == 0, size


def test_the_upsampling_layer_stays_pil_under_dtype_casts():
    """The layer's integer coefficients are not cast by ``.half()`` / ``.double()``; float32 and float64 inputs give
    the same 8-bit face."""
    lr = torch.randint(0, 256, (2, 3, 16, 16), generator=torch.Generator().manual_seed(0)).double() / 255
    expected = (pil_upsample(lr) * 255).round()
    for layer, x in ((PILBicubicUpsample(8), lr.float()), (PILBicubicUpsample(8).double(), lr),
                     (PILBicubicUpsample(8).half(), lr.float())):
        up = layer(x)
        assert up.dtype == x.dtype
        assert torch.equal((up.double() * 255).round(), expected)


def test_matches_pil_on_faces_and_differs_from_torch_bicubic(face_pairs):
    hr_dir, lr_dir, names = face_pairs
    hr = [Image.open(f'{hr_dir}/{n}').convert('RGB') for n in names[:40]]
    lr = [Image.open(f'{lr_dir}/{n}').convert('RGB') for n in names[:40]]
    for images, size in ((hr, 16), (lr, 128)):
        assert _differing_pixels(images, size) == 0
    # torch's bicubic (a = -0.75) is a different, sharper kernel: it must not pass as PIL's
    batch = _to_batch(lr[0])
    torch_bicubic = torch.nn.functional.interpolate(batch, size=128, mode='bicubic', align_corners=False)
    assert (torch_bicubic - pil_bicubic_resize(batch, 128)).abs().max() > 5 / 255


def test_batched_and_dtype_preserving():
    x = torch.rand(3, 2, 16, 20, dtype=torch.float32)
    y = pil_bicubic_resize(x, (32, 40))
    assert y.shape == (3, 2, 32, 40) and y.dtype == torch.float32
    torch.testing.assert_close(y[1:2], pil_bicubic_resize(x[1:2], (32, 40)))
