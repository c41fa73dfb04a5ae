"""Mask file helpers shared by the transforms, the manifest tool and the metric.

Convention everywhere in spn_mm: a mask is an ``(H, W, 1)`` ``uint8`` array
with values in ``{0, 1}`` and **1 = hole** (the layout of mmagic's
``LoadMask``), so mmagic's ``GetMaskedImage`` can consume it directly.
"""
import hashlib
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np

MASK_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.PNG',
                   '.JPG', '.JPEG', '.BMP')



def mask_image_to_holes(mask: np.ndarray,
                        threshold: int = 127,
                        invert: bool = False) -> np.ndarray:
    """A dataset's mask image -> the pipeline's (H, W, 1) uint8 hole map,
    with a JPEG-safe threshold (user-facing masks of any convention go
    through :func:`spn_mm.apis.binarize_mask` instead).

    Args:
        mask (np.ndarray): ``(H, W)`` or ``(H, W, C)`` image, any integer or
            float dtype in 0-255. Colour masks are averaged over channels.
        threshold (int): A pixel is a hole when its value is ``> threshold``
            (``< =`` when ``invert``). Defaults to 127, which is robust to
            JPEG ringing around 0/255 strokes.
        invert (bool): Set True for mask sets whose holes are black.

    Returns:
        np.ndarray: ``(H, W, 1)`` uint8 array, 1 = hole.
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(f'mask: expected np.ndarray, got {type(mask)}')
    if mask.ndim == 3:
        mask = mask.astype(np.float32).mean(axis=2)
    elif mask.ndim != 2:
        raise ValueError(
            f'mask: expected (H,W) or (H,W,C) array, got shape {mask.shape}')
    hole = mask > threshold
    if invert:
        hole = ~hole
    return hole.astype(np.uint8)[..., None]


def resize_mask(mask: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize a binary mask with nearest-neighbour interpolation.

    Args:
        mask (np.ndarray): ``(H, W, 1)`` or ``(H, W)`` uint8 0/1 mask.
        size (tuple[int, int]): Target ``(height, width)``.

    Returns:
        np.ndarray: ``(height, width, 1)`` uint8 0/1 mask.
    """
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f'size: expected positive (h, w), got {size}')
    m2d = mask[..., 0] if mask.ndim == 3 else mask
    if m2d.shape != (h, w):
        m2d = cv2.resize(m2d, (w, h), interpolation=cv2.INTER_NEAREST)
    return m2d.reshape(h, w, 1).astype(np.uint8)


def read_mask(path: str,
              size: Optional[Tuple[int, int]] = None,
              threshold: int = 127,
              invert: bool = False) -> np.ndarray:
    """Read a mask file, binarise it and optionally resize it (nearest).

    Args:
        path (str): Mask image file.
        size (tuple[int, int], optional): Target ``(height, width)``.
        threshold (int): See :func:`mask_image_to_holes`.
        invert (bool): See :func:`mask_image_to_holes`.

    Returns:
        np.ndarray: ``(H, W, 1)`` uint8 0/1 mask (1 = hole).
    """
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise FileNotFoundError(
            f'mask_path: cannot read a mask image at {path!r} (missing or '
            'corrupt file)')
    mask = mask_image_to_holes(img, threshold, invert)
    if size is not None:
        mask = resize_mask(mask, size)
    return mask


def sha1_file(path: str, chunk: int = 1 << 20) -> str:
    """SHA-1 hex digest of a file's bytes."""
    h = hashlib.sha1()
    with open(path, 'rb') as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def list_mask_files(root: str,
                    list_file: Optional[str] = None,
                    recursive: bool = True) -> List[str]:
    """List mask files relative to ``root``.

    Args:
        root (str): Folder holding the masks.
        list_file (str, optional): Text file, one mask per line (first
            whitespace-separated token, relative to ``root``). Empty lines and
            lines starting with ``#`` are skipped. Without it the folder is
            scanned.
        recursive (bool): Scan sub-folders too. Defaults to True.

    Returns:
        list[str]: Relative paths in list-file order, or sorted when scanned.
    """
    if list_file is not None:
        if not osp.isfile(list_file):
            raise FileNotFoundError(
                f'mask_list: list file {list_file!r} does not exist')
        out = []
        with open(list_file, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                out.append(line.split()[0].lstrip('/'))
        return out
    if not osp.isdir(root):
        raise FileNotFoundError(f'mask_root: folder {root!r} does not exist')
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            if fn.endswith(MASK_EXTENSIONS):
                out.append(osp.relpath(osp.join(dirpath, fn), root))
        if not recursive:
            break
    return sorted(p.replace(os.sep, '/') for p in out)
