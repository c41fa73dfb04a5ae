"""Mask helpers shared by the transforms, the manifest tool and the metric.

Convention everywhere in spn_mm: a mask is an ``(H, W, 1)`` ``uint8`` array
with values in ``{0, 1}`` and **1 = hole** (the layout of mmagic's
``LoadMask``), so mmagic's ``GetMaskedImage`` can consume it directly.
"""
import hashlib
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

MASK_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.PNG',
                   '.JPG', '.JPEG', '.BMP')

#: Default bucket edges of the paper's tables: 0-0.2, 0.2-0.4, 0.4-0.6.
DEFAULT_BUCKET_EDGES = (0.0, 0.2, 0.4, 0.6)
#: Label of a ratio outside every bucket (it still counts in ``All``).
OUT_OF_RANGE = 'out_of_range'
ALL_BUCKET = 'All'


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


# --------------------------------------------------------------------------
# Mask-ratio buckets
# --------------------------------------------------------------------------
def _fmt_edge(x: float) -> str:
    return f'{x:.1f}' if abs(round(x, 1) - x) < 1e-12 else f'{x:g}'


def check_bucket_edges(edges: Sequence[float]) -> Tuple[float, ...]:
    """Validate bucket edges (strictly increasing, within [0, 1])."""
    edges = tuple(float(e) for e in edges)
    if len(edges) < 2:
        raise ValueError(
            f'bucket_edges: need at least 2 edges, got {list(edges)}')
    if any(b <= a for a, b in zip(edges[:-1], edges[1:])):
        raise ValueError(
            f'bucket_edges: must be strictly increasing, got {list(edges)}')
    if edges[0] < 0 or edges[-1] > 1:
        raise ValueError(
            f'bucket_edges: must lie in [0, 1], got {list(edges)}')
    return edges


def bucket_names(edges: Sequence[float] = DEFAULT_BUCKET_EDGES) -> List[str]:
    """Names of the buckets, e.g. ``['0.0-0.2', '0.2-0.4', '0.4-0.6']``."""
    edges = check_bucket_edges(edges)
    return [
        f'{_fmt_edge(a)}-{_fmt_edge(b)}'
        for a, b in zip(edges[:-1], edges[1:])
    ]


def assign_bucket(ratio: float,
                  edges: Sequence[float] = DEFAULT_BUCKET_EDGES) -> str:
    """Bucket of a hole ratio.

    Buckets are half-open ``[lo, hi)`` except the last, which is closed
    ``[lo, hi]``, so a ratio equal to an inner edge belongs to the upper
    bucket (0.2 -> ``0.2-0.4``) and 0.6 still belongs to ``0.4-0.6``. Ratios
    outside ``[edges[0], edges[-1]]`` get :data:`OUT_OF_RANGE` (they are only
    counted in ``All``).

    Args:
        ratio (float): Hole ratio in [0, 1].
        edges (Sequence[float]): Bucket edges.

    Returns:
        str: The bucket name.
    """
    edges = check_bucket_edges(edges)
    names = bucket_names(edges)
    ratio = float(ratio)
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(names) - 1
        if lo <= ratio < hi or (last and ratio == hi):
            return names[i]
    return OUT_OF_RANGE


def hole_ratio(mask: Union[np.ndarray, 'object']) -> float:
    """Fraction of hole pixels of a 0/1 mask (numpy array or tensor)."""
    if hasattr(mask, 'detach'):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    return float((mask > 0).mean())
