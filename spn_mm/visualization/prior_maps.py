"""K-means visualisation of SPN prior maps (paper Fig. 10).

The official ``Kmeans_map`` clusters the pixels of one (C, H, W) feature map
(one row per pixel, channels as features) with ``cv2.kmeans`` (K=8, EPS +
MAX_ITER criteria with 20 iterations and eps 0.5, 10 attempts, random
centres) and colours ``label / K * 255`` with ``COLORMAP_JET``. Its colours
follow the arbitrary cluster index, so they change between runs and images.

Here:

* Channels are first put in a canonical order (sorted by mean, then std,
  max and min), so the clustering - not only the colours - is identical for
  a channel-permuted copy of a map (cv2's random centres are drawn per
  dimension, so the raw channel order would otherwise matter).
* ``cv2``'s RNG is seeded (``cv2.setRNGSeed(seed)``) before clustering, so a
  call is reproducible.
* Cluster indices are made **canonical**: clusters are renumbered in the
  order in which they first appear in a raster scan (top-left first). This
  depends only on the partition of the pixels, not on cv2's label numbering
  nor on the channel order of the features.
* :func:`kmeans_prior_maps` makes colours **consistent within one figure**:
  maps may have different channel counts and resolutions, so clusters are
  matched *spatially*. Each map's label map is nearest-resized together
  with its reference (the previous map by default, or the first one) to the
  larger of the two resolutions, the K x K pixel-overlap matrix between
  reference colours and current clusters is computed, and the Hungarian
  algorithm (``scipy.optimize.linear_sum_assignment``) gives every current
  cluster the colour of the reference cluster it overlaps most (one-to-one).
  The first map keeps its canonical colours.

Images are returned as RGB ``uint8`` (H, W, 3) arrays.
"""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]

_INITS = {
    'random': cv2.KMEANS_RANDOM_CENTERS,
    'pp': cv2.KMEANS_PP_CENTERS,
}


def _to_chw(feat: ArrayLike, name: str = 'feat') -> np.ndarray:
    if isinstance(feat, torch.Tensor):
        feat = feat.detach().float().cpu().numpy()
    feat = np.asarray(feat)
    if feat.ndim == 4 and feat.shape[0] == 1:
        feat = feat[0]
    if feat.ndim == 2:
        feat = feat[None]
    if feat.ndim != 3:
        raise ValueError(f'{name} must be a (C, H, W) feature map, got shape '
                         f'{feat.shape}')
    return feat.astype(np.float32, copy=False)


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber labels by first appearance in raster order.

    Args:
        labels (np.ndarray): (H, W) integer labels.

    Returns:
        np.ndarray: (H, W) int32 labels ``0..n-1`` (n = number of clusters
        present), label 0 being the cluster of pixel (0, 0).
    """
    flat = np.asarray(labels).reshape(-1).astype(np.int64)
    values, first, inverse = np.unique(
        flat, return_index=True, return_inverse=True)
    rank = np.empty(len(values), dtype=np.int32)
    rank[np.argsort(first, kind='stable')] = np.arange(
        len(values), dtype=np.int32)
    return rank[inverse.reshape(-1)].reshape(np.asarray(labels).shape)


def kmeans_labels(feat: ArrayLike,
                  k: int = 8,
                  seed: int = 0,
                  max_iter: int = 20,
                  eps: float = 0.5,
                  attempts: int = 10,
                  init: str = 'random') -> np.ndarray:
    """Cluster the pixels of a feature map with ``cv2.kmeans``.

    Args:
        feat (Tensor | np.ndarray): (C, H, W) (or (1, C, H, W)) features.
        k (int): Number of clusters. Default: 8 (paper/official).
        seed (int): Seed of cv2's RNG. Default: 0.
        max_iter (int): Max iterations (official 20).
        eps (float): Termination epsilon (official 0.5).
        attempts (int): Restarts; the most compact is kept (official 10).
        init (str): ``'random'`` (official ``KMEANS_RANDOM_CENTERS``) or
            ``'pp'`` (k-means++). Default: ``'random'``.

    Returns:
        np.ndarray: (H, W) int32 canonical labels (see
        :func:`canonical_labels`).
    """
    if init not in _INITS:
        raise ValueError(f'init must be one of {list(_INITS)}, got {init!r}')
    chw = _to_chw(feat)
    c, h, w = chw.shape
    if not 1 <= k <= h * w:
        raise ValueError(f'k must be in [1, H*W={h * w}], got {k}')
    rows = chw.reshape(c, h * w)
    # Permutation-invariant channel order (see module docstring).
    keys = (rows.min(1), rows.max(1), rows.std(1), rows.mean(1))
    rows = rows[np.lexsort(keys)]
    data = np.ascontiguousarray(rows.T)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER,
                int(max_iter), float(eps))
    cv2.setRNGSeed(int(seed))
    _, labels, _ = cv2.kmeans(data, int(k), None, criteria, int(attempts),
                              _INITS[init])
    return canonical_labels(labels.reshape(h, w))


def colorize_labels(labels: np.ndarray,
                    k: int = 8,
                    colormap: Union[str, int] = 'jet') -> np.ndarray:
    """Colour a label map like the official code (``label / k * 255`` then a
    cv2 colormap), returned as RGB.

    Args:
        labels (np.ndarray): (H, W) labels in ``[0, k)``.
        k (int): Number of colours. Default: 8.
        colormap (str | int): cv2 colormap name (``'jet'``, ``'turbo'``, ...)
            or ``cv2.COLORMAP_*`` constant. Default: ``'jet'``.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    if isinstance(colormap, str):
        attr = f'COLORMAP_{colormap.upper()}'
        if not hasattr(cv2, attr):
            raise ValueError(f'colormap: unknown cv2 colormap {colormap!r}')
        colormap = getattr(cv2, attr)
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f'labels must lie in [0, {k}), got '
                         f'[{labels.min()}, {labels.max()}]')
    levels = np.floor(labels.astype(np.float64) / k * 255).astype(np.uint8)
    bgr = cv2.applyColorMap(levels, colormap)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def kmeans_prior_map(feat: ArrayLike,
                     k: int = 8,
                     colormap: Union[str, int] = 'jet',
                     **kmeans_cfg) -> np.ndarray:
    """K-means map of one feature map (paper Fig. 10 / official
    ``Kmeans_map``), reproducible for a given ``seed``.

    Args:
        feat (Tensor | np.ndarray): (C, H, W) features of one sample.
        k (int): Number of clusters (and colours). Default: 8.
        colormap (str | int): See :func:`colorize_labels`.
        **kmeans_cfg: ``seed``, ``max_iter``, ``eps``, ``attempts``,
            ``init`` of :func:`kmeans_labels` (its defaults are official).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    labels = kmeans_labels(feat, k, **kmeans_cfg)
    return colorize_labels(labels, k, colormap)


def _resize_labels(labels: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Nearest resize (same index rule as ``F.interpolate(mode='nearest')``)
    of an integer label map."""
    h, w = labels.shape
    oh, ow = size
    rows = np.minimum((np.arange(oh) * (h / oh)).astype(np.int64), h - 1)
    cols = np.minimum((np.arange(ow) * (w / ow)).astype(np.int64), w - 1)
    return labels[rows[:, None], cols[None, :]]


def match_labels(labels: np.ndarray, reference: np.ndarray,
                 k: int) -> np.ndarray:
    """Relabel ``labels`` so that clusters take the colour of the reference
    cluster they overlap most (one-to-one Hungarian matching).

    Both maps are nearest-resized to the larger of their resolutions to
    count overlaps; the returned map keeps the resolution of ``labels``.

    Args:
        labels (np.ndarray): (H, W) labels in ``[0, k)``.
        reference (np.ndarray): (H', W') labels in ``[0, k)``.
        k (int): Number of clusters.

    Returns:
        np.ndarray: (H, W) int32 relabelled map.
    """
    from scipy.optimize import linear_sum_assignment
    size = (max(labels.shape[0],
                reference.shape[0]), max(labels.shape[1], reference.shape[1]))
    cur = _resize_labels(labels, size).reshape(-1)
    ref = _resize_labels(reference, size).reshape(-1)
    overlap = np.zeros((k, k), dtype=np.int64)  # [current, reference]
    np.add.at(overlap, (cur, ref), 1)
    # Tiny tie-break towards keeping the canonical index (deterministic and
    # irrelevant whenever overlaps differ).
    cost = -overlap.astype(np.float64) + 1e-6 * np.abs(
        np.arange(k)[:, None] - np.arange(k)[None, :])
    rows, cols = linear_sum_assignment(cost)
    lut = np.empty(k, dtype=np.int32)
    lut[rows] = cols
    return lut[labels]


def kmeans_prior_maps(
    feats: Sequence[ArrayLike],
    k: int = 8,
    colormap: Union[str, int] = 'jet',
    match: Optional[str] = 'previous',
    return_labels: bool = False,
    **kmeans_cfg
) -> Union[List[np.ndarray], Tuple[List[np.ndarray], List[np.ndarray]]]:
    """K-means maps of several feature maps with colours consistent within
    the figure (see the module docstring for the matching rule).

    Args:
        feats (Sequence[Tensor | np.ndarray]): (C_i, H_i, W_i) maps, e.g.
            the prior pyramid of one image (channels and sizes may differ).
        k (int): Number of clusters (and colours). Default: 8.
        colormap (str | int): See :func:`colorize_labels`.
        match (str, optional): ``'previous'`` (match each map to the
            previous one, good for a pyramid ordered by scale), ``'first'``
            (match every map to the first one) or None (canonical colours
            only). Default: ``'previous'``.
        return_labels (bool): Also return the label maps. Default: False.
        **kmeans_cfg: ``seed``, ``max_iter``, ``eps``, ``attempts``,
            ``init`` of :func:`kmeans_labels` (every map is clustered with
            the same ``seed``).

    Returns:
        list[np.ndarray]: (H_i, W_i, 3) uint8 RGB images (and the (H_i, W_i)
        label maps if ``return_labels``).
    """
    if match not in ('previous', 'first', None):
        raise ValueError(f"match must be 'previous', 'first' or None, got "
                         f'{match!r}')
    if len(feats) == 0:
        raise ValueError('feats is empty')
    all_labels: List[np.ndarray] = []
    for i, feat in enumerate(feats):
        _to_chw(feat, f'feats[{i}]')
        labels = kmeans_labels(feat, k, **kmeans_cfg)
        if all_labels and match is not None:
            ref = all_labels[-1] if match == 'previous' else all_labels[0]
            labels = match_labels(labels, ref, k)
        all_labels.append(labels)
    images = [colorize_labels(lab, k, colormap) for lab in all_labels]
    if return_labels:
        return images, all_labels
    return images
