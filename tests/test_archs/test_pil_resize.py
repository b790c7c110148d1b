import numpy as np
import pytest
import torch
from PIL import Image

from mrr_plugin.archs.pil_resize import keys_cubic, pil_bicubic_matrix, pil_bicubic_resize


def _to_batch(image):
    return torch.from_numpy(np.asarray(image, np.float64).transpose(2, 0, 1)[None] / 255.0)


def _to_uint8(batch):
    return (batch[0].numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)


def _compare_with_pil(images, size):
    differing, total, worst = 0, 0, 0
    for image in images:
        expected = np.asarray(image.resize((size, size), Image.BICUBIC)).astype(int)
        ours = _to_uint8(pil_bicubic_resize(_to_batch(image), size, quantize=True)).astype(int)
        difference = np.abs(ours - expected)
        differing += (difference > 0).sum()
        total += difference.size
        worst = max(worst, difference.max())
    return differing / total, worst


def test_kernel_is_keys_a_minus_half():
    assert keys_cubic(np.array([0.0]))[0] == 1.0
    assert keys_cubic(np.array([1.0, 2.0, 2.5])).tolist() == [0.0, 0.0, 0.0]
    assert keys_cubic(np.array([0.5]))[0] == pytest.approx(0.5625)  # a = -0.5; torch's a = -0.75 gives 0.59375
    for n_in, n_out in [(16, 128), (128, 16), (37, 128)]:
        np.testing.assert_allclose(pil_bicubic_matrix(n_in, n_out).sum(1), 1.0)


def test_matches_pil_on_synthetic_faces(synthetic_faces):
    import glob
    hr = [Image.open(p).convert('RGB') for p in sorted(glob.glob(f'{synthetic_faces}/*.png'))]
    lr = [image.resize((16, 16), Image.BICUBIC) for image in hr]
    for images, size in ((hr, 16), (lr, 128)):
        fraction, worst = _compare_with_pil(images, size)
        assert fraction < 1e-3 and worst <= 2


def test_matches_pil_on_faces_and_differs_from_torch_bicubic(face_pairs):
    hr_dir, lr_dir, names = face_pairs
    hr = [Image.open(f'{hr_dir}/{n}').convert('RGB') for n in names[:40]]
    lr = [Image.open(f'{lr_dir}/{n}').convert('RGB') for n in names[:40]]
    for images, size in ((hr, 16), (lr, 128)):
        fraction, worst = _compare_with_pil(images, size)
        assert fraction < 1e-3 and worst <= 2
    # torch's bicubic (a = -0.75) is a different, sharper kernel: it must not pass as PIL's
    batch = _to_batch(lr[0])
    torch_bicubic = torch.nn.functional.interpolate(batch, size=128, mode='bicubic', align_corners=False)
    assert (torch_bicubic - pil_bicubic_resize(batch, 128)).abs().max() > 5 / 255


def test_batched_and_dtype_preserving():
    x = torch.rand(3, 2, 16, 20, dtype=torch.float32)
    y = pil_bicubic_resize(x, (32, 40))
    assert y.shape == (3, 2, 32, 40) and y.dtype == torch.float32
    torch.testing.assert_close(y[1:2], pil_bicubic_resize(x[1:2], (32, 40)))
