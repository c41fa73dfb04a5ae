"""Per-image inpainting scores in two conventions.

``spn`` -- the official SPN evaluation (``det/eval_final.py``):

* composite ``pred * M + gt * (1 - M)``;
* quantise to uint8 by **truncation** (``(x * 255).astype(uint8)`` on [0,1]
  images, i.e. ``floor`` on 0-255 images);
* PSNR: ``skimage.metrics.peak_signal_noise_ratio(.., data_range=255)`` over
  the whole image, all channels;
* SSIM: ``skimage.metrics.structural_similarity(.., data_range=255,
  channel_axis=2, win_size=11)`` (uniform window, per channel, averaged);
* "L1"/MAE: ``mean(|mean_c(pred) - mean_c(gt)|) / 255`` on channel-averaged
  images over the whole image (a fraction).

``mmagic`` -- mmagic's inpainting evaluator (``MAE(mask_key='mask')``,
``PSNR``, ``SSIM``, called through their own ``process_image``): float
0-255 images as the model returns them, MAE over hole pixels only,
mmagic's Gaussian-window SSIM.
"""
from typing import Dict, Tuple, Union

import numpy as np
import torch

Array = Union[np.ndarray, torch.Tensor]


def _np(x: Array) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def composite(pred: Array,
              gt: Array,
              mask: Array,
              binarize: bool = True) -> np.ndarray:
    """``pred * mask + gt * (1 - mask)`` in float64 (same layout as input).

    Args:
        pred (np.ndarray | Tensor): (C, H, W) image, 0-255.
        gt (np.ndarray | Tensor): (C, H, W) image, 0-255.
        mask (np.ndarray | Tensor): (1, H, W) or (H, W), 1 = hole.
        binarize (bool): Use ``mask > 0`` (default). False: use the mask
            values as they are (a soft mask in [0, 1], as the official code
            does with the raw mask file).

    Returns:
        np.ndarray: (C, H, W) float64.
    """
    pred = _np(pred).astype(np.float64)
    gt = _np(gt).astype(np.float64)
    m = _np(mask).astype(np.float64)
    m = m.reshape((1, ) + pred.shape[-2:])
    if binarize:
        m = (m > 0).astype(np.float64)
    elif m.min() < 0 or m.max() > 1:
        raise ValueError('composite: a soft mask must lie in [0, 1], got '
                         f'[{m.min()}, {m.max()}]')
    return pred * m + gt * (1. - m)


def read_raw_mask(path: str, size: Tuple[int, int]) -> np.ndarray:
    """A mask file read as the official evaluation reads it, no threshold.

    ``cv2.imread`` (3 channels), ``cv2.resize`` nearest to ``size`` when it
    differs, ``/ 255`` and the channel mean (official ``dataset_test.py`` +
    ``main.py``: 255 = hole).

    Args:
        path (str): Mask image file.
        size (tuple[int, int]): ``(height, width)`` of the image.

    Returns:
        np.ndarray: (H, W) float64 in [0, 1], 1 = hole.
    """
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(
            f'mask_path: cannot read a mask image at {path!r} (missing or '
            'corrupt file)')
    h, w = int(size[0]), int(size[1])
    if img.shape[:2] != (h, w):
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)
    return img.astype(np.float64).mean(axis=2) / 255.


def quantize(img: Array, mode: str = 'floor') -> np.ndarray:
    """Clip to [0, 255] and convert to uint8 by truncation or rounding.

    Args:
        img (np.ndarray | Tensor): Image in 0-255 (any layout).
        mode (str): 'floor' (official truncation) or 'round'.

    Returns:
        np.ndarray: uint8 array of the same layout.
    """
    x = np.clip(_np(img).astype(np.float64), 0, 255)
    if mode == 'floor':
        x = np.floor(x)
    elif mode == 'round':
        x = np.round(x)
    else:
        raise ValueError(
            f"quantize: expected 'floor' or 'round', got {mode!r}")
    return x.astype(np.uint8)


def chw_to_hwc(x: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, C)."""
    return np.ascontiguousarray(np.transpose(x, (1, 2, 0)))


def spn_scores(pred_u8: np.ndarray, gt_u8: np.ndarray) -> Dict[str, float]:
    """Official SPN PSNR / SSIM / L1 on (H, W, 3) uint8 images.

    Args:
        pred_u8 (np.ndarray): (H, W, 3) uint8 composited prediction.
        gt_u8 (np.ndarray): (H, W, 3) uint8 ground truth.

    Returns:
        dict: ``PSNR`` (inf for identical images), ``SSIM``, ``MAE``.
    """
    from skimage.metrics import (peak_signal_noise_ratio,
                                 structural_similarity)
    if pred_u8.dtype != np.uint8 or gt_u8.dtype != np.uint8:
        raise TypeError('spn_scores: expected uint8 images, got '
                        f'{pred_u8.dtype} and {gt_u8.dtype}')
    if pred_u8.shape != gt_u8.shape or pred_u8.ndim != 3:
        raise ValueError('spn_scores: expected two (H,W,C) images of the '
                         f'same shape, got {pred_u8.shape}, {gt_u8.shape}')
    if np.array_equal(pred_u8, gt_u8):
        psnr = float('inf')  # skimage would warn on log10(inf)
    else:
        psnr = float(peak_signal_noise_ratio(gt_u8, pred_u8, data_range=255))
    ssim = float(
        structural_similarity(
            pred_u8, gt_u8, data_range=255, channel_axis=2, win_size=11))
    mae = float(np.mean(np.abs(np.mean(pred_u8, 2) - np.mean(gt_u8, 2))) / 255)
    return dict(PSNR=psnr, SSIM=ssim, MAE=mae)


class MMagicScorer:
    """mmagic's MAE (hole-only), PSNR and SSIM through their own code."""

    def __init__(self) -> None:
        from mmagic.evaluation.metrics import MAE, PSNR, SSIM
        self.mae = MAE(mask_key='mask')
        self.psnr = PSNR()
        self.ssim = SSIM()

    def __call__(self, pred: torch.Tensor, gt: torch.Tensor,
                 mask: torch.Tensor) -> Dict[str, float]:
        """Scores of one image.

        Args:
            pred (Tensor): (3, H, W) float 0-255.
            gt (Tensor): (3, H, W) 0-255.
            mask (Tensor): (1, H, W), 1 = hole.

        Returns:
            dict: ``PSNR`` (inf for identical images), ``SSIM``, ``MAE``
            (hole-only, unscaled fraction).
        """
        pred = torch.as_tensor(pred).detach().cpu().float()
        gt = torch.as_tensor(gt).detach().cpu().float()
        mask = torch.as_tensor(mask).detach().cpu().float().reshape(
            1, *pred.shape[-2:])
        mask = (mask != 0).float()
        return dict(
            PSNR=float(self.psnr.process_image(gt, pred, mask)),
            SSIM=float(self.ssim.process_image(gt, pred, mask)),
            MAE=float(self.mae.process_image(gt, pred, mask)))
