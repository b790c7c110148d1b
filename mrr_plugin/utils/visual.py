"""Labelled comparison grids (PNG) of RGB uint8 images."""
import cv2
import numpy as np


def labelled_grid(rows, labels, cell=128, header=18, gap=2):
    """Grid with one column per label and one row per face.

    Args:
        rows (list[list[np.ndarray]]): ``rows[i][j]`` is the RGB uint8 image of face i in column j; each is
            resized to ``cell`` x ``cell`` with nearest neighbour (so LR pixels stay visible).
        labels (list[str]): Column titles drawn above the first row.
    Returns:
        np.ndarray: RGB uint8 image.
    """
    if any(len(row) != len(labels) for row in rows):
        raise ValueError('Every row needs one image per label.')
    width = len(labels) * (cell + gap) + gap
    height = header + len(rows) * (cell + gap) + gap
    grid = np.full((height, width, 3), 255, np.uint8)
    for j, label in enumerate(labels):
        x = gap + j * (cell + gap)
        cv2.putText(grid, label[:18], (x + 2, header - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        for i, row in enumerate(rows):
            y = header + gap + i * (cell + gap)
            grid[y:y + cell, x:x + cell] = cv2.resize(row[j], (cell, cell), interpolation=cv2.INTER_NEAREST)
    return grid


def tensor_to_rgb(tensor):
    """A C x H x W image tensor in [0, 1] (any device, any float type) -> H x W x C RGB uint8 array (rounded,
    clipped)."""
    return np.ascontiguousarray((tensor.detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0) * 255).round(),
                                dtype=np.uint8)


def rgb_to_batch(images, device='cpu'):
    """RGB uint8 arrays (H x W x 3, one size) -> float32 batch N x 3 x H x W in [0, 1] on ``device``."""
    import torch
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255).to(device)


def write_image(path, rgb, jpeg_quality=95):
    """Write an RGB uint8 image atomically (temporary name, then rename); the format follows the extension."""
    import os
    root, ext = os.path.splitext(path)
    tmp = f'{root}.partial{ext}'
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if ext.lower() in ('.jpg', '.jpeg') else []
    if not cv2.imwrite(tmp, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise OSError(f'Cannot write {path}.')
    os.replace(tmp, path)


def write_png(path, rgb):
    """Write an RGB uint8 PNG atomically."""
    write_image(path, rgb)
