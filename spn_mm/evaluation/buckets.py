"""Hole-ratio buckets of the evaluation protocol (the paper's tables).

A pair's bucket is decided once, when its manifest is built
(``tools/dataset_converters/make_eval_manifest.py``), from the hole ratio of
its mask at the evaluation size; the metric groups scores by it and adds
``All``.
"""
from typing import List, Sequence, Tuple, Union

import numpy as np

#: Default bucket edges of the paper's tables: 0-0.2, 0.2-0.4, 0.4-0.6.
DEFAULT_BUCKET_EDGES = (0.0, 0.2, 0.4, 0.6)
#: Label of a ratio outside every bucket (it still counts in ``All``).
OUT_OF_RANGE = 'out_of_range'
ALL_BUCKET = 'All'


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
