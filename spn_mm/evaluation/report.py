"""Writing evaluation results: the paper-style table, JSON/CSV summaries
and the per-image CSV.

Everything here formats numbers that :mod:`.aggregate` computed; nothing
scores or aggregates.
"""
import csv
import json
import math
import os
import os.path as osp
from typing import Any, Dict, List, Sequence, Tuple

#: Columns of the per-image CSV, in order.
PER_IMAGE_COLUMNS = [
    'manifest_idx', 'sample_idx', 'gt_path', 'mask_path', 'hole_ratio',
    'bucket', 'K', 'best', 'PSNR', 'SSIM', 'MAE', 'PSNR_capped', 'LPIPS_div',
    'PSNR_all', 'LPIPS_div_hole'
]


def metric_rows(out: Dict[str, Any], cols: Sequence[str]) -> List[List[str]]:
    """One row per metric name of ``out`` (keys ``'<bucket>/<metric>'``).

    Args:
        out (dict): Aggregated metrics.
        cols (Sequence[str]): Buckets to show, in order.

    Returns:
        list[list[str]]: ``[metric, value per bucket...]``; integers as
        written, floats with 4 decimals, a missing value as ``nan``.
    """
    metrics: List[str] = []
    for key in out:
        if '/' not in key:
            continue
        bucket, name = key.split('/', 1)
        if bucket in cols and name not in metrics:
            metrics.append(name)
    rows = []
    for name in metrics:
        row = [name]
        for c in cols:
            v = out.get(f'{c}/{name}', float('nan'))
            row.append(str(v) if isinstance(v, int) else f'{v:.4f}')
        rows.append(row)
    return rows


def format_table(title: str, out: Dict[str, Any],
                 cols: Sequence[str]) -> str:
    """``title`` above a PrettyTable of :func:`metric_rows`."""
    from prettytable import PrettyTable
    table = PrettyTable()
    table.field_names = ['Metric'] + list(cols)
    for row in metric_rows(out, cols):
        table.add_row(row)
    return title + '\n' + table.get_string()


def write_summary(out_dir: str, stem: str, settings: Dict[str, Any],
                  out: Dict[str, Any],
                  cols: Sequence[str]) -> Tuple[str, str]:
    """Write ``<stem>.json`` (settings + metrics, NaN as null) and
    ``<stem>.csv`` (the table).

    Returns:
        tuple[str, str]: The JSON and CSV paths.
    """
    os.makedirs(out_dir, exist_ok=True)
    summary = dict(
        settings,
        metrics={
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in out.items()
        })
    jpath = osp.join(out_dir, stem + '.json')
    with open(jpath, 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=2)
    cpath = osp.join(out_dir, stem + '.csv')
    with open(cpath, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['metric'] + list(cols))
        for row in metric_rows(out, cols):
            w.writerow(row)
    return jpath, cpath


def write_per_image_csv(path: str, results: Sequence[dict],
                        mae_scaling: float) -> None:
    """One row per image: metadata, best-of-K scores, every PSNR.

    Args:
        path (str): Output CSV.
        results (Sequence[dict]): The metric's per-image results (``best``
            indexes the best of the K samples).
        mae_scaling (float): Factor applied to the stored MAE.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(PER_IMAGE_COLUMNS)
        for r in results:
            b = r['best']
            w.writerow([
                r.get('manifest_idx'),
                r.get('sample_idx'),
                r.get('gt_path'),
                r.get('mask_path'), f'{r["ratio"]:.6f}',
                r['bucket_measured'], r['K'], b,
                repr(r['psnr'][b]),
                repr(r['ssim'][b]),
                repr(r['mae'][b] * mae_scaling),
                int(r['capped'][b]),
                '' if r['lpips_div'] is None else repr(r['lpips_div']),
                ' '.join(repr(p) for p in r['psnr']),
                '' if r.get('lpips_div_hole') is None else repr(
                    r['lpips_div_hole'])
            ])
