"""Mask transforms: procedural irregular strokes, the NVIDIA irregular mask
set, and the manifest-paired test mask.

Every transform writes ``results[mask_key]`` as an ``(H, W, 1)`` uint8 0/1
array with **1 = hole**, resized (nearest) to the image in
``results[img_key]``, so mmagic's ``GetMaskedImage`` can follow.
"""
import math
import os.path as osp
from typing import Optional, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dist import get_rank
from mmengine.logging import print_log

from spn_mm.registry import TRANSFORMS
from ..mask_utils import list_mask_files, read_mask

RNG = Union[np.random.Generator, np.random.RandomState, None]


def _uniform(rng: RNG, low: float, high: float) -> float:
    rng = np.random if rng is None else rng
    return float(rng.uniform(low, high))


def _randint(rng: RNG, low: int, high: int) -> int:
    """Integer in ``[low, high)`` from a Generator or a RandomState."""
    if high <= low:
        return int(low)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(low, high))
    rng = np.random if rng is None else rng
    return int(rng.randint(low, high))


class _SeededMixin:
    """Private RNG per process when ``seed`` is given.

    With ``seed=None`` the global ``np.random`` is used, which mmengine seeds
    per rank and dataloader worker from ``randomness.seed``. With an integer
    ``seed`` a private ``np.random.Generator`` is created lazily in every
    process from ``(seed, rank, worker id)``, so workers never duplicate each
    other's masks and runs are repeatable for a fixed number of workers.
    """

    seed: Optional[int] = None

    def _get_rng(self) -> RNG:
        if self.seed is None:
            return None
        try:
            from torch.utils.data import get_worker_info
            info = get_worker_info()
            worker = 0 if info is None else info.id
        except ImportError:  # pragma: no cover
            worker = 0
        key = (get_rank(), worker)
        if getattr(self, '_rng_key', None) != key:
            self._rng = np.random.default_rng([int(self.seed), *key])
            self._rng_key = key
        return self._rng


def generate_irregular_mask(img_shape: Tuple[int, int],
                            ratio_range: Tuple[float, float] = (0.05, 0.6),
                            rng: RNG = None,
                            num_vertices: Tuple[int, int] = (4, 12),
                            brush_width: Tuple[int, int] = (10, 40),
                            length_range: Tuple[int, int] = (10, 60),
                            max_strokes: int = 200) -> np.ndarray:
    """Draw NVIDIA-like irregular strokes until the hole ratio is in range.

    A target ratio is drawn uniformly in ``ratio_range``; random-walk strokes
    (thick poly-lines with round joints) are added until the hole ratio
    reaches it. A stroke that would overshoot ``ratio_range[1]`` is rejected
    and the brush shrinks, so the result always lies inside the range.
    Widths and lengths are given for a 256 image and scale with
    ``min(H, W) / 256``.

    Args:
        img_shape (tuple[int, int]): ``(H, W)``.
        ratio_range (tuple[float, float]): Target hole ratio ``[lo, hi]`` with
            ``0 <= lo < hi <= 1``.
        rng (np.random.Generator | np.random.RandomState | None): Random
            source; None uses the global ``np.random``.
        num_vertices (tuple[int, int]): Vertices per stroke ``[lo, hi)``.
        brush_width (tuple[int, int]): Brush width in px ``[lo, hi)`` at 256.
        length_range (tuple[int, int]): Segment length ``[lo, hi)`` at 256.
        max_strokes (int): Stroke attempts before the fill-up fallback.

    Returns:
        np.ndarray: ``(H, W, 1)`` uint8 mask, 1 = hole, with
        ``lo <= mean <= hi``.
    """
    h, w = int(img_shape[0]), int(img_shape[1])
    lo, hi = float(ratio_range[0]), float(ratio_range[1])
    if not 0 <= lo < hi <= 1:
        raise ValueError('ratio_range: expected 0 <= lo < hi <= 1, got '
                         f'{tuple(ratio_range)}')
    if h < 8 or w < 8:
        raise ValueError(f'img_shape: expected at least 8x8, got {(h, w)}')
    total = h * w
    target = _uniform(rng, lo, hi)
    scale = min(h, w) / 256.
    mask = np.zeros((h, w), np.uint8)
    count = 0
    shrink = 1.0
    for _ in range(max_strokes):
        if count >= target * total:
            break
        canvas = mask.copy()
        width = max(
            1,
            int(
                round(
                    _randint(rng, brush_width[0], brush_width[1]) * scale *
                    shrink)))
        x, y = _randint(rng, 0, w), _randint(rng, 0, h)
        for _ in range(_randint(rng, num_vertices[0], num_vertices[1])):
            angle = _uniform(rng, 0, 2 * math.pi)
            length = _randint(rng, length_range[0], length_range[1])
            length = max(1., length * scale * max(shrink, 0.25))
            # scalar clamp (np.clip on a Python float costs ~20 us)
            nx = int(min(max(x + length * math.cos(angle), 0.), w - 1.))
            ny = int(min(max(y + length * math.sin(angle), 0.), h - 1.))
            cv2.line(canvas, (x, y), (nx, ny), 1, width)
            cv2.circle(canvas, (nx, ny), max(width // 2, 1), 1, -1)
            x, y = nx, ny
        new_count = int(canvas.sum())
        if new_count > hi * total:
            shrink *= 0.7  # overshoot: reject the stroke, use a finer brush
            continue
        mask, count = canvas, new_count
    # fallback: single pixels next to / inside free space until lo is met
    if count < lo * total:
        free = np.flatnonzero(mask.reshape(-1) == 0)
        need = int(math.ceil(lo * total)) - count
        if isinstance(rng, np.random.Generator):
            pick = rng.permutation(free)[:need]
        else:
            pick = (np.random if rng is None else rng).permutation(free)[:need]
        mask.reshape(-1)[pick] = 1
    return mask[..., None]


@TRANSFORMS.register_module()
class SPNRandomIrregularMask(_SeededMixin, BaseTransform):
    """Procedural irregular-stroke mask with a target hole-ratio range.

    Used when the NVIDIA irregular mask set is absent, and in tests.

    Required keys: ``img_key`` (for the shape) unless ``img_shape`` is given.
    Added keys: ``mask_key`` ((H, W, 1) uint8, 1 = hole).

    Args:
        ratio_range (tuple[float, float]): Hole ratio range ``[lo, hi]``.
            Defaults to ``(0.05, 0.6)`` (the NVIDIA set spans 0.01-0.6).
        img_key (str): Image whose size the mask takes. Defaults to 'gt'.
        mask_key (str): Output key. Defaults to 'mask'.
        img_shape (tuple[int, int], optional): Fixed ``(H, W)``.
        seed (int, optional): Private seed (see :class:`_SeededMixin`); None
            uses mmengine's seeded global ``np.random``.
        num_vertices, brush_width, length_range, max_strokes: see
            :func:`generate_irregular_mask`.
    """

    def __init__(self,
                 ratio_range: Tuple[float, float] = (0.05, 0.6),
                 img_key: str = 'gt',
                 mask_key: str = 'mask',
                 img_shape: Optional[Tuple[int, int]] = None,
                 seed: Optional[int] = None,
                 num_vertices: Tuple[int, int] = (4, 12),
                 brush_width: Tuple[int, int] = (10, 40),
                 length_range: Tuple[int, int] = (10, 60),
                 max_strokes: int = 200) -> None:
        lo, hi = ratio_range
        if not 0 <= lo < hi <= 1:
            raise ValueError('ratio_range: expected 0 <= lo < hi <= 1, got '
                             f'{tuple(ratio_range)}')
        self.ratio_range = (float(lo), float(hi))
        self.img_key = img_key
        self.mask_key = mask_key
        self.img_shape = img_shape
        self.seed = seed
        self.num_vertices = tuple(num_vertices)
        self.brush_width = tuple(brush_width)
        self.length_range = tuple(length_range)
        self.max_strokes = max_strokes

    def transform(self, results: dict) -> dict:
        """Add ``results[mask_key]``."""
        if self.img_shape is not None:
            shape = self.img_shape
        else:
            if self.img_key not in results:
                raise KeyError(
                    f'SPNRandomIrregularMask: results has no {self.img_key!r}'
                    ' image to take the mask size from (set img_key or '
                    'img_shape)')
            shape = results[self.img_key].shape[:2]
        results[self.mask_key] = generate_irregular_mask(
            shape, self.ratio_range, self._get_rng(), self.num_vertices,
            self.brush_width, self.length_range, self.max_strokes)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ratio_range={self.ratio_range}, '
                f'img_key={self.img_key!r}, seed={self.seed})')


@TRANSFORMS.register_module()
class SPNLoadMaskFromSet(_SeededMixin, BaseTransform):
    """Random mask from a mask set (e.g. NVIDIA irregular masks) + flip.

    Picks a uniformly random mask of the pool, binarises it (``> threshold``
    is a hole; JPEG-safe), resizes it with nearest to the image size and
    flips it horizontally with probability ``flip_ratio``.

    Added keys: ``mask_key`` ((H, W, 1) uint8, 1 = hole) and
    ``mask_path``.

    Args:
        mask_root (str): Folder of the masks (e.g.
            ``data/irregular_mask/testing_mask_dataset``).
        mask_list (str, optional): Text file with one mask path per line,
            relative to ``mask_root``. Without it the folder is scanned.
            Use a list to train on a subset that is disjoint from the
            evaluation masks.
        img_key (str): Image whose size the mask takes. Defaults to 'gt'.
        mask_key (str): Output key. Defaults to 'mask'.
        threshold (int): Binarisation threshold. Defaults to 127.
        invert (bool): Holes are black in the files. Defaults to False
            (NVIDIA masks: white = hole).
        flip_ratio (float): Probability of a horizontal flip. Defaults to 0.5.
        vertical_flip_ratio (float): Probability of a vertical flip.
            Defaults to 0 (the paper only flips horizontally).
        seed (int, optional): Private seed (see :class:`_SeededMixin`).
    """

    def __init__(self,
                 mask_root: str,
                 mask_list: Optional[str] = None,
                 img_key: str = 'gt',
                 mask_key: str = 'mask',
                 threshold: int = 127,
                 invert: bool = False,
                 flip_ratio: float = 0.5,
                 vertical_flip_ratio: float = 0.,
                 seed: Optional[int] = None) -> None:
        self.mask_root = mask_root
        self.mask_list = mask_list
        self.files = list_mask_files(mask_root, mask_list)
        if not self.files:
            raise FileNotFoundError(
                f'mask_root: no mask files found in {mask_root!r}' +
                (f' (mask_list={mask_list!r})' if mask_list else ''))
        self.img_key = img_key
        self.mask_key = mask_key
        self.threshold = threshold
        self.invert = invert
        if not 0 <= flip_ratio <= 1 or not 0 <= vertical_flip_ratio <= 1:
            raise ValueError('flip_ratio/vertical_flip_ratio: expected a '
                             'probability in [0, 1]')
        self.flip_ratio = flip_ratio
        self.vertical_flip_ratio = vertical_flip_ratio
        self.seed = seed

    def transform(self, results: dict) -> dict:
        """Add ``results[mask_key]`` and ``results['mask_path']``."""
        if self.img_key not in results:
            raise KeyError(f'SPNLoadMaskFromSet: results has no '
                           f'{self.img_key!r} image to take the size from')
        rng = self._get_rng()
        idx = _randint(rng, 0, len(self.files))
        path = osp.join(self.mask_root, self.files[idx])
        mask = read_mask(path, results[self.img_key].shape[:2], self.threshold,
                         self.invert)
        if _uniform(rng, 0, 1) < self.flip_ratio:
            mask = mask[:, ::-1]
        if _uniform(rng, 0, 1) < self.vertical_flip_ratio:
            mask = mask[::-1]
        results[self.mask_key] = np.ascontiguousarray(mask)
        results['mask_path'] = path
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_root={self.mask_root!r}, '
                f'num_masks={len(self.files)}, threshold={self.threshold}, '
                f'invert={self.invert}, flip_ratio={self.flip_ratio}, '
                f'seed={self.seed})')


@TRANSFORMS.register_module()
class SPNLoadPairedMask(BaseTransform):
    """Load the mask paired with the image by the evaluation manifest.

    Reads ``results[path_key]`` (set by ``SPNManifestDataset``), binarises it
    and resizes it with nearest to ``results[img_key]``. When the record
    carries ``hole_ratio`` (measured by the manifest tool after its resize),
    the ratio measured here is compared with it, so a test pipeline whose
    resize differs from the manifest's is caught.

    Added keys: ``mask_key`` ((H, W, 1) uint8, 1 = hole).

    Args:
        img_key (str): Image whose size the mask takes. Defaults to 'gt'.
        mask_key (str): Output key. Defaults to 'mask'.
        path_key (str): Key of the mask file path. Defaults to 'mask_path'.
        threshold (int, optional): Binarisation threshold. None (default)
            takes the manifest's (``results['mask_threshold']``), else 127.
        invert (bool, optional): Holes are black in the files. None
            (default) takes the manifest's (``results['mask_invert']``),
            else False.
        on_ratio_mismatch (str): 'error' (default), 'warn' or 'ignore' when
            the measured hole ratio differs from the manifest's by more
            than ``ratio_tol``.
        ratio_tol (float): Tolerance. Defaults to 1e-6.
    """

    def __init__(self,
                 img_key: str = 'gt',
                 mask_key: str = 'mask',
                 path_key: str = 'mask_path',
                 threshold: Optional[int] = None,
                 invert: Optional[bool] = None,
                 on_ratio_mismatch: str = 'error',
                 ratio_tol: float = 1e-6) -> None:
        if on_ratio_mismatch not in ('error', 'warn', 'ignore'):
            raise ValueError("on_ratio_mismatch: expected 'error', 'warn' or "
                             f"'ignore', got {on_ratio_mismatch!r}")
        self.img_key = img_key
        self.mask_key = mask_key
        self.path_key = path_key
        self.threshold = threshold
        self.invert = invert
        self.on_ratio_mismatch = on_ratio_mismatch
        self.ratio_tol = ratio_tol
        self._warned = False

    def transform(self, results: dict) -> dict:
        """Add ``results[mask_key]``."""
        for key in (self.path_key, self.img_key):
            if key not in results:
                raise KeyError(
                    f'SPNLoadPairedMask: results has no {key!r} (use '
                    'SPNManifestDataset and load the image first)')
        threshold = self.threshold
        if threshold is None:
            threshold = results.get('mask_threshold', 127)
        invert = self.invert
        if invert is None:
            invert = results.get('mask_invert', False)
        mask = read_mask(results[self.path_key],
                         results[self.img_key].shape[:2], threshold, invert)
        expected = results.get('hole_ratio', None)
        if expected is not None and self.on_ratio_mismatch != 'ignore':
            got = float(mask.mean())
            if abs(got - float(expected)) > self.ratio_tol:
                msg = (f'SPNLoadPairedMask: hole ratio {got:.6f} of '
                       f'{results[self.path_key]!r} at size '
                       f'{mask.shape[:2]} differs from the manifest\'s '
                       f'{float(expected):.6f}; the test pipeline must '
                       'resize to the manifest size (see its header).')
                if self.on_ratio_mismatch == 'error':
                    raise ValueError(msg)
                if not self._warned:
                    print_log(msg, 'current', 30)
                    self._warned = True
        results[self.mask_key] = mask
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(img_key={self.img_key!r}, '
                f'threshold={self.threshold}, invert={self.invert}, '
                f'on_ratio_mismatch={self.on_ratio_mismatch!r})')


@TRANSFORMS.register_module()
class SPNIrregularMask(BaseTransform):
    """Training mask with a source switch: NVIDIA set or procedural strokes.

    Args:
        source (str): 'set' (mask files, :class:`SPNLoadMaskFromSet`),
            'procedural' (:class:`SPNRandomIrregularMask`) or 'auto' (the set
            when ``mask_root`` holds masks, procedural otherwise, with a
            warning). Defaults to 'auto'.
        mask_root (str, optional): Mask folder for 'set'/'auto'.
        mask_list (str, optional): Mask list relative to ``mask_root`` (e.g.
            the masks unused by the evaluation manifest, for the
            disjoint-mask protocol).
        ratio_range (tuple[float, float]): Procedural hole-ratio range.
        flip_ratio (float): Horizontal flip probability of set masks.
        threshold (int): Binarisation threshold of set masks.
        invert (bool): Holes are black in the mask files.
        img_key (str): Image whose size the mask takes.
        mask_key (str): Output key.
        seed (int, optional): Private seed (see :class:`_SeededMixin`).
    """

    def __init__(self,
                 source: str = 'auto',
                 mask_root: Optional[str] = None,
                 mask_list: Optional[str] = None,
                 ratio_range: Tuple[float, float] = (0.01, 0.6),
                 flip_ratio: float = 0.5,
                 threshold: int = 127,
                 invert: bool = False,
                 img_key: str = 'gt',
                 mask_key: str = 'mask',
                 seed: Optional[int] = None) -> None:
        if source not in ('auto', 'set', 'procedural'):
            raise ValueError("source: expected 'auto', 'set' or "
                             f"'procedural', got {source!r}")
        if source == 'auto':
            has_set = mask_root is not None and osp.isdir(mask_root) and (
                mask_list is None or osp.isfile(mask_list))
            if has_set:
                has_set = len(list_mask_files(mask_root, mask_list)) > 0
            source = 'set' if has_set else 'procedural'
            if source == 'procedural':
                print_log(
                    f'SPNIrregularMask: no mask set at {mask_root!r}; '
                    'training with procedural irregular masks '
                    f'(ratio_range={tuple(ratio_range)}).', 'current', 30)
        if source == 'set':
            if mask_root is None:
                raise ValueError("mask_root: required for source='set'")
            self.impl = SPNLoadMaskFromSet(
                mask_root,
                mask_list,
                img_key,
                mask_key,
                threshold,
                invert,
                flip_ratio,
                seed=seed)
        else:
            self.impl = SPNRandomIrregularMask(
                ratio_range, img_key, mask_key, seed=seed)
        self.source = source

    def transform(self, results: dict) -> dict:
        """Add ``results[mask_key]``."""
        return self.impl.transform(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(source={self.source!r}, ' \
            f'impl={self.impl!r})'
