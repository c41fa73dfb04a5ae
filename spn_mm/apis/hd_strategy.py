"""Running SPN on images of any size ("HD strategies").

SPN needs image sides that are multiples of 4 (deterministic) or 32
(probabilistic: the variational prior downsamples S_enc^L three more times),
see :func:`required_multiple`. A :class:`HDPlan` maps a native image + mask
to the network input and the network output back:

* ``'original'``: the whole image, reflect-padded (image and mask) to the
  multiple, run at native resolution, padding cropped off. Images smaller
  than the model's minimum side (:func:`minimum_side`, e.g. 12 px for the
  tiny deterministic test model) are padded up to it the same way (a side
  of one pixel is replicated: there is nothing to reflect). Guarded by
  ``max_pixels`` on the padded size (memory grows with the area; the prior
  learner even runs at 2x).
* ``'crop'``: only the bounding box of the holes plus ``crop_margin`` pixels
  of context on each side (clipped to the image) is processed like
  ``'original'``; the same pixel guard applies to the crop.
* ``'resize'``: the image is shrunk (area interpolation) so that its longer
  side is at most ``resize_limit`` and both sides are multiples of the
  required multiple (never enlarged: small images are only padded); the hole
  map is shrunk conservatively (a low-resolution pixel is a hole if any of
  its native pixels is); the output is resized back (bicubic).

In every case only hole pixels are taken from the network; all known pixels
are copied from the native input (:meth:`HDPlan.paste_back`), so they are
exactly preserved.
"""
import math
from typing import Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn

HD_STRATEGIES = ('original', 'crop', 'resize')
DEFAULT_MAX_PIXELS = 1024 * 1024
DEFAULT_CROP_MARGIN = 128
DEFAULT_RESIZE_LIMIT = 512


def required_multiple(generator: nn.Module) -> int:
    """Side multiple an SPN generator needs: its ``size_divisor``.

    4 for the deterministic generator (two stride-2 convs in the image
    encoder, and the 2x prior learner has three); with a variational prior
    of ``n`` downsamplings, ``4 * 2**n`` (official n=3: 32).

    Args:
        generator (nn.Module): An :class:`SPNGenerator`.

    Returns:
        int: The multiple.
    """
    return int(generator.size_divisor)


def minimum_side(generator: nn.Module, max_factor: int = 16) -> int:
    """Smallest network-input side the generator runs at.

    Some layers need more than a few pixels at the coarsest scale (reflect
    pads, dilated convs, instance norms), so the minimum is a multiple of
    ``size_divisor`` found by a probe forward on zeros: the smallest
    ``k * size_divisor`` (k = 1, 2, ...) that runs. Cached on the
    generator object.

    Args:
        generator (nn.Module): An :class:`SPNGenerator`.
        max_factor (int): Largest ``k`` tried. Default: 16.

    Returns:
        int: The minimum side in pixels.
    """
    cached = getattr(generator, 'spn_minimum_side', None)
    if cached is not None:
        return int(cached)
    step = required_multiple(generator)
    param = next(generator.parameters())
    side = step * max_factor
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            for k in range(1, max_factor + 1):
                x = torch.zeros(1, 3, k * step, k * step, device=param.device)
                m = torch.ones(1, 1, k * step, k * step, device=param.device)
                try:
                    generator.forward_test(x, m, sample='mean')
                except (RuntimeError, ValueError):
                    continue
                side = k * step
                break
    finally:
        generator.train(was_training)
    generator.spn_minimum_side = side
    return side


def _round_up(x: int, m: int) -> int:
    return int(math.ceil(x / m) * m)


def _grow(a0: int, a1: int, size: int, multiple: int) -> Tuple[int, int]:
    """Grow ``[a0, a1)`` inside ``[0, size)`` towards a length that is a
    multiple (real context instead of reflection where the image allows)."""
    extra = min(_round_up(a1 - a0, multiple), size) - (a1 - a0)
    new_a1 = min(size, a1 + extra)
    return max(0, a0 - (extra - (new_a1 - a1))), new_a1


def _check_pixels(h: int, w: int, max_pixels: int, strategy: str,
                  native: Tuple[int, int]) -> None:
    if max_pixels is not None and h * w > max_pixels:
        side = int(math.isqrt(int(max_pixels)))
        raise ValueError(
            f"hd_strategy='{strategy}': the network input would be {w}x{h} "
            f'= {h * w:,} pixels (image {native[1]}x{native[0]}), over the '
            f'max_pixels limit of {int(max_pixels):,} (~{side}x{side}). Use '
            "hd_strategy='crop' or 'resize' (CLI: --hd-strategy), or raise "
            'max_pixels (CLI: --max-pixels)')


def _pad(arr: np.ndarray, dh: int, dw: int) -> np.ndarray:
    """Pad bottom/right by (dh, dw): reflect, or replicate along a side of
    one pixel (nothing to reflect)."""
    if not dh and not dw:
        return np.ascontiguousarray(arr)
    for axis, amount in ((0, dh), (1, dw)):
        if amount:
            mode = 'reflect' if arr.shape[axis] > 1 else 'edge'
            pad = [(0, 0)] * arr.ndim
            pad[axis] = (0, amount)
            arr = np.pad(arr, pad, mode=mode)
    return np.ascontiguousarray(arr)


def mask_bbox(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """Bounding box ``(y0, y1, x0, x1)`` (end-exclusive) of the holes.

    Args:
        mask (np.ndarray): (H, W) bool with at least one True.

    Returns:
        tuple[int, int, int, int]: The box.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError('mask_bbox: the mask has no hole')
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


class HDPlan:
    """How one image is fed to the network and put back together.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB, native resolution.
        mask (np.ndarray): (H, W) bool, True = hole (non-empty).
        multiple (int): Required side multiple (:func:`required_multiple`).
        strategy (str): ``'original'``, ``'crop'`` or ``'resize'``.
        max_pixels (int, optional): Guard for ``'original'``/``'crop'`` on
            the padded network input. None disables it.
        crop_margin (int): Context pixels around the holes for ``'crop'``.
        resize_limit (int): Longest side of the network input for
            ``'resize'``.
        min_side (int): Smallest network-input side
            (:func:`minimum_side`); shorter sides are padded up to it
            (reflect, or replicate for a 1-pixel side) and cropped back.
            Default: 0 (only the multiple).

    Attributes:
        net_image (np.ndarray): (h, w, 3) uint8 network input image.
        net_mask (np.ndarray): (h, w) bool network input holes.
        region (tuple[int, int, int, int]): ``(y0, y1, x0, x1)`` of the
            native image the network input covers.
    """

    def __init__(self,
                 image: np.ndarray,
                 mask: np.ndarray,
                 multiple: int,
                 strategy: str = 'original',
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 crop_margin: int = DEFAULT_CROP_MARGIN,
                 resize_limit: int = DEFAULT_RESIZE_LIMIT,
                 min_side: int = 0) -> None:
        if strategy not in HD_STRATEGIES:
            raise ValueError(f'hd_strategy must be one of {HD_STRATEGIES}, '
                             f'got {strategy!r}')
        if image.ndim != 3 or image.shape[2] != 3 or \
                mask.shape != image.shape[:2]:
            raise ValueError(f'HDPlan: expected an (H, W, 3) image and an '
                             f'(H, W) mask, got {image.shape} and '
                             f'{mask.shape}')
        if crop_margin < 0:
            raise ValueError(f'crop_margin must be >= 0, got {crop_margin}')
        if resize_limit < multiple:
            raise ValueError(f'resize_limit must be >= {multiple} (the '
                             f'model multiple), got {resize_limit}')
        self.strategy = strategy
        self.multiple = multiple
        self.native_shape = image.shape[:2]
        self.mask = mask
        h, w = self.native_shape
        if strategy == 'crop':
            y0, y1, x0, x1 = mask_bbox(mask)
            y0, y1 = _grow(
                max(0, y0 - crop_margin), min(h, y1 + crop_margin), h,
                multiple)
            x0, x1 = _grow(
                max(0, x0 - crop_margin), min(w, x1 + crop_margin), w,
                multiple)
            self.region = (y0, y1, x0, x1)
        else:
            self.region = (0, h, 0, w)
        y0, y1, x0, x1 = self.region
        img = image[y0:y1, x0:x1]
        msk = mask[y0:y1, x0:x1]
        rh, rw = img.shape[:2]
        self.scaled_shape = (rh, rw)
        if strategy == 'resize' and max(rh, rw) > resize_limit:
            scale = resize_limit / max(rh, rw)
            sh = max(multiple, int(round(rh * scale / multiple)) * multiple)
            sw = max(multiple, int(round(rw * scale / multiple)) * multiple)
            sh, sw = min(sh, resize_limit), min(sw, resize_limit)
            img = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
            area = cv2.resize(
                msk.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
            msk = area > 0
            self.scaled_shape = (sh, sw)
        sh, sw = self.scaled_shape
        ph = _round_up(max(sh, min_side), multiple)
        pw = _round_up(max(sw, min_side), multiple)
        if strategy != 'resize':
            _check_pixels(ph, pw, max_pixels, strategy, self.native_shape)
        self.net_image = _pad(img, ph - sh, pw - sw)
        self.net_mask = _pad(msk, ph - sh, pw - sw)

    @property
    def net_shape(self) -> Tuple[int, int]:
        """(h, w) of the network input."""
        return self.net_image.shape[:2]

    def paste_back(self, image: np.ndarray, net_out: np.ndarray) -> np.ndarray:
        """Put a network output back into the native image.

        Args:
            image (np.ndarray): (H, W, 3) uint8 native image.
            net_out (np.ndarray): (h, w, 3) float or uint8 network output
                in [0, 255] (the raw prediction; only hole pixels are used).

        Returns:
            np.ndarray: (H, W, 3) uint8 whose known pixels equal ``image``.
        """
        sh, sw = self.scaled_shape
        out = np.asarray(net_out, dtype=np.float32)[:sh, :sw]
        y0, y1, x0, x1 = self.region
        if (sh, sw) != (y1 - y0, x1 - x0):
            out = cv2.resize(
                out, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        result = image.copy()
        hole = self.mask[y0:y1, x0:x1]
        result[y0:y1, x0:x1][hole] = out[hole]
        return result
