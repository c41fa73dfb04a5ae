"""Show that the demo model learned: trained vs untrained vs baselines.

On the config's test manifest (every pair, in order) this compares

* the trained checkpoint,
* the same model before training (same config, same seed, ``init_weights``),
* a mean-colour fill (hole = mean colour of the known pixels of the image),
* OpenCV's Telea inpainting (``cv2.INPAINT_TELEA``, radius 3),

with the official SPN protocol (composited output, uint8 by truncation,
full-image PSNR/SSIM, grey-level L1), per mask-ratio bucket. It writes

* ``<out>/demo_report.json`` and ``<out>/demo_report.md`` (the table),
* ``<out>/demo_grid.png``: per row masked input | untrained | trained |
  Telea | ground truth | K-means maps (K=8) of the trained model's prior
  pyramid, fine -> coarse (paper Fig. 10; colours consistent per row).

Usage::

    python tools/analysis/demo_report.py configs/spn_demo.py CKPT \
        --out work_dirs/spn_demo/report
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import OrderedDict, defaultdict
from typing import Dict, List

import cv2
import numpy as np
import torch


import spn_mm  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import load_checkpoint, set_random_seed  # noqa: E402

from spn_mm.evaluation.buckets import assign_bucket, bucket_names  # noqa
from spn_mm.evaluation.inpainting_scores import (composite,  # noqa: E402
                                                 quantize, spn_scores)
from spn_mm.registry import DATASETS, MODELS  # noqa: E402

METHODS = ('untrained', 'trained', 'mean_fill', 'telea')


def build_model(cfg: Config, checkpoint: str = None) -> torch.nn.Module:
    """The config's model, seeded like the Runner; weights from checkpoint."""
    seed = cfg.get('randomness', {}).get('seed', None)
    if seed is not None:
        set_random_seed(seed)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=False,
                        logger='silent')
    return model.eval()


def mean_fill(gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill holes with the mean colour of the known pixels (H, W, 3)."""
    known = mask[..., 0] == 0
    out = gt.astype(np.float64).copy()
    colour = out[known].mean(0) if known.any() else np.full(3, 127.5)
    out[~known] = colour
    return out


def telea(gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV Telea inpainting of the masked image (H, W, 3)."""
    masked = gt.copy()
    masked[mask[..., 0] > 0] = 0
    return cv2.inpaint(masked, (mask[..., 0] > 0).astype(np.uint8) * 255, 3,
                       cv2.INPAINT_TELEA).astype(np.float64)


@torch.no_grad()
def run_model(model, gt: np.ndarray, mask: np.ndarray) -> Dict:
    """Raw prediction (H, W, 3) in 0-255 and the prior pyramid."""
    x = torch.from_numpy(gt).permute(2, 0, 1)[None].float() / 127.5 - 1
    m = torch.from_numpy(mask).permute(2, 0, 1)[None].float()
    feats = model.generator.extract_features(x * (1 - m), m, seed=0)
    out = ((feats['out'][0] + 1) * 127.5).clamp(0, 255)
    return dict(
        pred=out.permute(1, 2, 0).numpy().astype(np.float64),
        priors=[p[0] for p in feats['priors']])


def score(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> Dict:
    """Official-protocol scores of a (H, W, 3) prediction."""
    comp = composite(pred.transpose(2, 0, 1), gt.transpose(2, 0, 1),
                     mask.transpose(2, 0, 1))
    comp_u8 = quantize(comp).transpose(1, 2, 0)
    return spn_scores(np.ascontiguousarray(comp_u8), gt)


def load_pairs(cfg: Config) -> List[Dict]:
    """(gt RGB uint8 HxWx3, mask HxWx1 0/1, hole_ratio) from the manifest."""
    ds_cfg = cfg.test_dataloader.dataset
    dataset = DATASETS.build(ds_cfg)
    pairs = []
    for i in range(len(dataset)):
        item = dataset[i]
        ds = item['data_samples']
        gt = ds.gt_img.permute(1, 2, 0).numpy().round().astype(np.uint8)
        mask = ds.mask.permute(1, 2, 0).numpy().astype(np.uint8)
        pairs.append(dict(gt=gt, mask=mask, ratio=float(mask.mean())))
    return pairs


def summarise(per_image: Dict[str, List[Dict]], ratios: List[float]
              ) -> 'OrderedDict':
    """Mean PSNR/SSIM/MAE per method and bucket (+ All)."""
    buckets = bucket_names()
    table = OrderedDict()
    for method, rows in per_image.items():
        groups = defaultdict(list)
        for row, r in zip(rows, ratios):
            groups[assign_bucket(r)].append(row)
            groups['All'].append(row)
        table[method] = OrderedDict()
        for b in buckets + ['All']:
            if not groups[b]:
                continue
            table[method][b] = {
                k: float(np.mean([row[k] for row in groups[b]]))
                for k in ('PSNR', 'SSIM', 'MAE')
            }
            table[method][b]['N'] = len(groups[b])
    return table


def to_markdown(table: 'OrderedDict') -> str:
    buckets = list(next(iter(table.values())).keys())
    head = '| method | ' + ' | '.join(
        f'PSNR {b} (N={table["trained"][b]["N"]})' for b in buckets) + \
        ' | SSIM All | L1 All |'
    lines = [head, '|' + '---|' * (len(buckets) + 3)]
    for method, row in table.items():
        cells = [f'{row[b]["PSNR"]:.2f}' for b in buckets]
        lines.append(f'| {method} | ' + ' | '.join(cells) +
                     f' | {row["All"]["SSIM"]:.4f} | {row["All"]["MAE"]:.4f} |')
    return '\n'.join(lines)


def make_grid(rows: List[List[np.ndarray]], scale: int = 2) -> np.ndarray:
    """Stack rows of equal-height RGB tiles with 2-px white gaps."""
    out_rows = []
    for tiles in rows:
        h = tiles[0].shape[0]
        gap = np.full((h, 2, 3), 255, np.uint8)
        parts = []
        for t in tiles:
            if t.shape[0] != h:
                t = cv2.resize(t, (h, h), interpolation=cv2.INTER_NEAREST)
            parts += [t.astype(np.uint8), gap]
        out_rows.append(np.concatenate(parts[:-1], 1))
        out_rows.append(np.full((2, out_rows[-1].shape[1], 3), 255,
                                np.uint8))
    grid = np.concatenate(out_rows[:-1], 0)
    return cv2.resize(grid, None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_NEAREST)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-vis', type=int, default=6)
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    DefaultScope.get_instance('spn_demo_report',
                              scope_name=cfg.get('default_scope', 'mmagic'))
    os.makedirs(args.out, exist_ok=True)
    models = dict(
        untrained=build_model(cfg), trained=build_model(cfg,
                                                         args.checkpoint))
    pairs = load_pairs(cfg)
    per_image = {m: [] for m in METHODS}
    vis_rows = []
    for i, p in enumerate(pairs):
        gt, mask = p['gt'], p['mask']
        preds = {}
        for name, model in models.items():
            res = run_model(model, gt, mask)
            preds[name] = res['pred']
            if name == 'trained':
                priors = res['priors']
        preds['mean_fill'] = mean_fill(gt, mask)
        preds['telea'] = telea(gt, mask)
        for m in METHODS:
            per_image[m].append(score(preds[m], gt, mask))
        if i < args.num_vis:
            from spn_mm.visualization import kmeans_prior_maps
            masked = gt.copy()
            masked[mask[..., 0] > 0] = 255
            comp = {
                m: quantize(
                    composite(preds[m].transpose(2, 0, 1),
                              gt.transpose(2, 0, 1),
                              mask.transpose(2, 0, 1))).transpose(1, 2, 0)
                for m in ('untrained', 'trained', 'telea')
            }
            maps = kmeans_prior_maps([t.numpy() for t in priors])
            vis_rows.append([masked, comp['untrained'], comp['trained'],
                             comp['telea'], gt] + list(maps))
    table = summarise(per_image, [p['ratio'] for p in pairs])
    gain = {
        ref: table['trained']['All']['PSNR'] - table[ref]['All']['PSNR']
        for ref in ('untrained', 'mean_fill', 'telea')
    }
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        num_pairs=len(pairs),
        protocol='official SPN: composite, uint8 truncation, full-image '
        'PSNR (data_range 255), SSIM 11x11 uniform, grey L1',
        table=table,
        trained_psnr_gain_db=gain)
    with open(osp.join(args.out, 'demo_report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    md = to_markdown(table)
    with open(osp.join(args.out, 'demo_report.md'), 'w') as f:
        f.write(md + '\n')
    grid = make_grid(vis_rows)
    cv2.imwrite(osp.join(args.out, 'demo_grid.png'),
                cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(md)
    print('PSNR gain of the trained model (All): ' + ', '.join(
        f'{k} {v:+.2f} dB' for k, v in gain.items()))
    print(f'report: {osp.join(args.out, "demo_report.md")}, grid: '
          f'{osp.join(args.out, "demo_grid.png")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
