"""Per-bucket aggregation of per-image inpainting scores.

The metric stores one record per image (scores of each of its K samples,
the index ``best`` of the best sample by PSNR, FID features, LPIPS
diversity); :func:`bucket_summary` turns them into the reported numbers.
"""
import math
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from .buckets import ALL_BUCKET, OUT_OF_RANGE, assign_bucket, bucket_names

FIDFn = Callable[[list, list], float]


def nan_mean(values: Sequence[Optional[float]]) -> float:
    """Mean of the values that are neither None nor NaN (NaN if none)."""
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else float('nan')


def bucket_summary(results: List[dict],
                   edges: Sequence[float],
                   mae_scaling: float = 1.0,
                   fid: Optional[FIDFn] = None,
                   fid_dim: int = 2048,
                   with_lpips: bool = False) -> Dict[str, Any]:
    """Aggregate per-image records per bucket and for ``All``.

    Each record's bucket is (re-)assigned from its ``ratio`` with ``edges``
    (written to ``r['bucket_measured']``), so a changed edge set is
    honoured.

    Args:
        results (list[dict]): Per-image records (``ratio``, ``K``, ``best``,
            ``psnr``/``ssim``/``mae``/``capped`` lists over the K samples,
            ``real_feat``/``fake_feats`` with FID, ``lpips_div`` and
            ``lpips_div_hole`` with LPIPS).
        edges (Sequence[float]): Bucket edges.
        mae_scaling (float): Factor applied to MAE. Default: 1.
        fid (callable, optional): ``fid(real_feats, fake_feats) -> float``;
            None: no FID.
        fid_dim (int): Feature dimension (FID is flagged unreliable below
            this many images). Default: 2048.
        with_lpips (bool): Report LPIPS diversity (K > 1). Default: False.

    Returns:
        dict[str, Any]: ``'<bucket>/<metric>'`` -> value, best-of-K by PSNR
        (plus ``*_meanK``, ``FID_allK`` and LPIPS when K > 1), and
        ``out_of_range/count`` when some ratio lies outside every bucket.
    """
    names = bucket_names(edges)
    for r in results:
        r['bucket_measured'] = assign_bucket(r['ratio'], edges)
    groups = {n: [r for r in results if r['bucket_measured'] == n]
              for n in names}
    groups[ALL_BUCKET] = list(results)
    k_max = max((r['K'] for r in results), default=1)
    out: Dict[str, Any] = {}
    for name, rs in groups.items():
        best = [r['best'] for r in rs]

        def at_best(key: str) -> List[float]:
            return [r[key][b] for r, b in zip(rs, best)]

        def mean_of_k(key: str) -> List[float]:
            return [float(np.mean(r[key])) for r in rs]

        out[f'{name}/count'] = len(rs)
        out[f'{name}/PSNR'] = nan_mean(at_best('psnr'))
        out[f'{name}/SSIM'] = nan_mean(at_best('ssim'))
        out[f'{name}/MAE'] = nan_mean(at_best('mae')) * mae_scaling
        out[f'{name}/PSNR_capped_count'] = int(sum(at_best('capped')))
        if fid is not None:
            real = [r['real_feat'] for r in rs]
            out[f'{name}/FID'] = fid(real, at_best('fake_feats'))
            out[f'{name}/FID_unreliable'] = int(len(rs) < fid_dim)
        if k_max > 1:
            out[f'{name}/K'] = k_max
            out[f'{name}/PSNR_meanK'] = nan_mean(mean_of_k('psnr'))
            out[f'{name}/SSIM_meanK'] = nan_mean(mean_of_k('ssim'))
            out[f'{name}/MAE_meanK'] = nan_mean(
                mean_of_k('mae')) * mae_scaling
            if with_lpips:
                out[f'{name}/LPIPS_div'] = nan_mean(
                    [r['lpips_div'] for r in rs])
                out[f'{name}/LPIPS_div_hole'] = nan_mean(
                    [r['lpips_div_hole'] for r in rs])
            if fid is not None:
                real = [r['real_feat'] for r in rs]
                fake = [f for r in rs for f in r['fake_feats']]
                out[f'{name}/FID_allK'] = fid(real, fake)
    n_out = sum(r['bucket_measured'] == OUT_OF_RANGE for r in results)
    if n_out:
        out[f'{OUT_OF_RANGE}/count'] = n_out
    return out
