"""FID between two image folders, read the way pytorch-fid reads them.

Files are listed by extension and sorted, opened with Pillow and converted to
RGB, scaled to [0, 1] and passed to :class:`~spn_mm.evaluation.SPNFIDInception`
(which resizes to 299 and scales to [-1, 1]); the distance is
:func:`~spn_mm.evaluation.frechet_distance_from_features`. No image is dropped
and images may have different sizes.
"""
import os
import os.path as osp
from typing import List

import numpy as np
import torch
import torch.nn as nn

from .fid import frechet_distance_from_features

IMAGE_EXTENSIONS = ('bmp', 'jpg', 'jpeg', 'pgm', 'png', 'ppm', 'tif', 'tiff',
                    'webp')


def list_images(folder: str) -> List[str]:
    """Sorted image files (by extension, case-insensitive) directly in
    ``folder``.

    Raises:
        FileNotFoundError: ``folder`` is not a directory.
        ValueError: it holds no image.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'folder: expected a directory of images, got {folder!r}')
    files = sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.rsplit('.', 1)[-1].lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(
            f'folder: no image file ({", ".join(IMAGE_EXTENSIONS)}'
            f') in {folder!r}')
    return files


def read_rgb01(path: str) -> torch.Tensor:
    """One image as a (3, H, W) float32 RGB tensor in [0, 1] (Pillow,
    ``convert('RGB')``, divided by 255)."""
    from PIL import Image
    with Image.open(path) as img:
        arr = np.asarray(img.convert('RGB'))
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255.


@torch.no_grad()
def folder_features(folder: str,
                    inception: nn.Module,
                    batch_size: int = 16) -> np.ndarray:
    """Pool features of every image of a folder.

    Consecutive images of equal size are batched (up to ``batch_size``).

    Args:
        folder (str): Image folder (see :func:`list_images`).
        inception (nn.Module): Maps (N, 3, H, W) RGB [0, 1] to (N, D).
        batch_size (int): Images per forward pass.

    Returns:
        np.ndarray: (N, D) float32, in sorted file order.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size: expected >= 1, got {batch_size}')
    device = next(inception.parameters()).device
    feats, batch = [], []

    def flush() -> None:
        if batch:
            x = torch.stack(batch).to(device)
            feats.append(inception(x).cpu().numpy().astype(np.float32))
            batch.clear()

    for path in list_images(folder):
        img = read_rgb01(path)
        if batch and (img.shape != batch[0].shape or len(batch) == batch_size):
            flush()
        batch.append(img)
    flush()
    return np.concatenate(feats)


def folder_fid(folder1: str,
               folder2: str,
               inception: nn.Module,
               batch_size: int = 16,
               eps: float = 1e-6) -> float:
    """FID between two image folders (e.g. ground truth vs predictions).

    Args:
        folder1, folder2 (str): Image folders, >= 2 images each.
        inception (nn.Module): Feature extractor, e.g.
            ``SPNFIDInception('pt_inception-2015-12-05-6726825d.pth')``.
        batch_size (int): Images per forward pass.
        eps (float): See :func:`~spn_mm.evaluation.frechet_distance`.

    Returns:
        float: The Fréchet distance of the two feature sets.
    """
    f1 = folder_features(folder1, inception, batch_size)
    f2 = folder_features(folder2, inception, batch_size)
    return frechet_distance_from_features(f1, f2, eps)
