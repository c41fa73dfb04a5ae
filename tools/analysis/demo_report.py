"""Show what the demo model learned: trained vs untrained vs baselines.

On the config's test manifest (every pair, in order) this compares

* ``trained``: the trained checkpoint,
* ``untrained``: the same model before training (same config, same seed,
  ``init_weights``),
* ``mean_fill``: the hole filled with the mean colour of the known pixels,
* ``telea`` / ``ns``: OpenCV's Telea and Navier-Stokes inpainting
  (``cv2.INPAINT_TELEA`` / ``cv2.INPAINT_NS``, radius 3),

with the official SPN protocol (composited output, uint8 by truncation,
full-image PSNR/SSIM, grey-level L1 = ``MAE``), per mask-ratio bucket; with
``--lpips-backbone`` (local torchvision AlexNet weights) also LPIPS. It
writes into ``--out``

* ``demo_report.json``: ``table[method][bucket] = {PSNR, SSIM, MAE, N}``
  (+ ``LPIPS`` with local LPIPS weights) and ``goal`` (does ``trained`` beat
  every classical method in every metric of the ``All``, ``0.2-0.4`` and
  ``0.4-0.6`` buckets),
* ``demo_report.md``: the table,
* ``demo_grid.png``: one row per mask-ratio bucket (the pair with the
  bucket's median hole ratio), columns masked input | SPN | Telea | ground
  truth | K-means maps (K=8) of the trained model's prior pyramid, fine ->
  coarse (paper Fig. 10; colours consistent per row),
* ``loss_curve.png``: the training loss terms from the run's log
  (``<work_dir>/<timestamp>/vis_data/scalars.json``; ``--work-dir``,
  default: the checkpoint's folder),
* ``index.html``: the table, both figures and ``--command``.

Usage::

    python tools/analysis/demo_report.py configs/spn_demo.py CKPT \
        --out work_dirs/spn_demo/report [--command "make demo"]
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import OrderedDict, defaultdict
from typing import Dict, List, Tuple

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

METHODS = ('trained', 'untrained', 'mean_fill', 'telea', 'ns')
#: the classical methods the trained model has to beat, and where
CLASSICAL = ('telea', 'ns')
GOAL_BUCKETS = ('All', '0.2-0.4', '0.4-0.6')
METRICS = ('PSNR', 'SSIM', 'MAE')
HIGHER_IS_BETTER = dict(PSNR=True, SSIM=True, MAE=False, LPIPS=False)


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


def opencv_inpaint(gt: np.ndarray, mask: np.ndarray,
                   method: str = 'telea') -> np.ndarray:
    """OpenCV inpainting (radius 3) of the masked image (H, W, 3);
    ``method`` is ``'telea'`` or ``'ns'`` (Navier-Stokes)."""
    flags = dict(telea=cv2.INPAINT_TELEA, ns=cv2.INPAINT_NS)
    masked = gt.copy()
    masked[mask[..., 0] > 0] = 0
    return cv2.inpaint(masked, (mask[..., 0] > 0).astype(np.uint8) * 255, 3,
                       flags[method]).astype(np.float64)


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


def lpips_score(model, pred_u8: np.ndarray, gt: np.ndarray) -> float:
    """LPIPS of two (H, W, 3) uint8 images (inputs scaled to [-1, 1])."""
    def t(img):
        return torch.from_numpy(np.ascontiguousarray(img)).permute(
            2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        return float(model(t(pred_u8), t(gt)).mean())


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
        pairs.append(dict(gt=gt, mask=mask, ratio=float(mask.mean()),
                          manifest_hash=ds.metainfo.get('manifest_hash')))
    return pairs


def summarise(per_image: Dict[str, List[Dict]], ratios: List[float]
              ) -> 'OrderedDict':
    """Mean of every score per method and bucket (+ All), with ``N``."""
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
                for k in groups[b][0]
            }
            table[method][b]['N'] = len(groups[b])
    return table


def goal_check(table: 'OrderedDict') -> Dict:
    """Does ``trained`` beat every classical method in every metric of the
    goal buckets? ``{bucket: {metric: bool}}`` + ``met`` (all of them)."""
    out = OrderedDict()
    met = True
    for b in GOAL_BUCKETS:
        if b not in table['trained']:
            continue
        out[b] = OrderedDict()
        for k in table['trained'][b]:
            if k == 'N':
                continue
            mine = table['trained'][b][k]
            others = [table[m][b][k] for m in CLASSICAL]
            ok = all(mine > o if HIGHER_IS_BETTER[k] else mine < o
                     for o in others)
            out[b][k] = bool(ok)
            met = met and ok
    out['met'] = bool(met)
    return out


def to_markdown(table: 'OrderedDict') -> str:
    """One row per method; PSNR/SSIM/MAE (+ LPIPS) per bucket."""
    buckets = list(table['trained'].keys())
    metrics = [k for k in table['trained']['All'] if k != 'N']
    head = ['method'] + [f'{k} {b} (N={table["trained"][b]["N"]})'
                         for b in buckets for k in metrics]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for method, row in table.items():
        cells = [method] + [
            f'{row[b][k]:.2f}' if k == 'PSNR' else f'{row[b][k]:.4f}'
            for b in buckets for k in metrics
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def pick_rows(ratios: List[float]) -> List[Tuple[str, int]]:
    """Per bucket (in order) the index of the pair with the median ratio."""
    rows = []
    for b in bucket_names():
        idx = [i for i, r in enumerate(ratios) if assign_bucket(r) == b]
        if idx:
            idx.sort(key=lambda i: ratios[i])
            rows.append((b, idx[len(idx) // 2]))
    return rows


def save_grid(path: str, rows: List[Dict]) -> None:
    """Picture grid with column titles and one row per bucket."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = ['masked input', 'SPN (trained)', 'OpenCV Telea', 'ground truth']
    n_lv = len(rows[0]['priors'])
    cols += [f'prior level {i + 1}' + (' (fine)' if i == 0 else
                                        ' (coarse)' if i == n_lv - 1 else '')
             for i in range(n_lv)]
    fig, axes = plt.subplots(len(rows), len(cols),
                             figsize=(1.6 * len(cols), 1.75 * len(rows)),
                             squeeze=False)
    for r, row in enumerate(rows):
        tiles = [row['masked'], row['trained'], row['telea'], row['gt']] + \
            row['priors']
        for c, tile in enumerate(tiles):
            ax = axes[r][c]
            ax.imshow(tile, interpolation='nearest')
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(f'holes {row["bucket"]}\n'
                              f'(ratio {row["ratio"]:.2f})', fontsize=8)
            if c in (1, 2):
                ax.set_xlabel(f'{row["psnr"][c - 1]:.2f} dB', fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_train_log(work_dir: str) -> List[Dict]:
    """The training log lines (``vis_data/scalars.json`` of every run in
    ``work_dir``, a resumed run included), one dict per logged iteration."""
    import glob
    by_iter = {}
    for f in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                       'scalars.json'))):
        with open(f) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                if 'iter' in rec and any(k.startswith('loss') for k in rec):
                    by_iter[int(rec['iter'])] = rec
    return [by_iter[i] for i in sorted(by_iter)]


def save_loss_curve(path: str, log: List[Dict]) -> bool:
    """Plot every ``loss*`` term against the iteration; False if no log."""
    if not log:
        return False
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = sorted({k for rec in log for k in rec if k.startswith('loss')})
    gen = [k for k in keys if not k.startswith('loss_d')]
    disc = [k for k in keys if k.startswith('loss_d')]
    fig, axes = plt.subplots(1, 2 if disc else 1, figsize=(10, 3.6),
                             squeeze=False)
    for ax, group, title in ((axes[0][0], gen, 'generator loss terms'),
                             (axes[0][-1], disc, 'discriminator')):
        if not group:
            continue
        for k in group:
            pts = [(rec['iter'], rec[k]) for rec in log if k in rec]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=k,
                    lw=1.2)
        ax.set_xlabel('iteration')
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def to_html(report: Dict, md_table: str, figures: List[str]) -> str:
    """A small self-contained page: table, figures, the command."""
    import html
    table = report['table']
    buckets = list(table['trained'].keys())
    metrics = [k for k in table['trained']['All'] if k != 'N']
    best = {}
    for b in buckets:
        for k in metrics:
            vals = {m: table[m][b][k] for m in table}
            pick = max if HIGHER_IS_BETTER[k] else min
            best[b, k] = pick(vals, key=vals.get)
    head = ''.join(f'<th colspan="{len(metrics)}">{html.escape(b)} '
                   f'(N={table["trained"][b]["N"]})</th>' for b in buckets)
    sub = ''.join(f'<th>{k}{" &uarr;" if HIGHER_IS_BETTER[k] else " &darr;"}'
                  '</th>' for _ in buckets for k in metrics)
    body = []
    for m, row in table.items():
        cells = []
        for b in buckets:
            for k in metrics:
                v = row[b][k]
                txt = f'{v:.2f}' if k == 'PSNR' else f'{v:.4f}'
                if best[b, k] == m:
                    txt = f'<b>{txt}</b>'
                cells.append(f'<td>{txt}</td>')
        body.append(f'<tr><th>{html.escape(m)}</th>{"".join(cells)}</tr>')
    goal = report['goal']
    verdict = ('met' if goal['met'] else 'not met') + ': ' + '; '.join(
        f'{b}: ' + ', '.join(f'{k} {"yes" if ok else "no"}'
                             for k, ok in goal[b].items())
        for b in GOAL_BUCKETS if b in goal)
    figs = ''.join(f'<figure><img src="{html.escape(f)}" alt="{html.escape(f)}">'
                   f'</figure>' for f in figures)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>spn_mm demo report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #bbb;padding:3px 6px;text-align:right}}
img{{max-width:100%}}code,pre{{background:#f3f3f3}}</style></head><body>
<h1>spn_mm demo: SPN vs classical inpainting</h1>
<p>{report['num_pairs']} held-out pairs (seeded manifest
<code>{html.escape(str(report.get('manifest_hash')))}</code>); protocol:
{html.escape(report['protocol'])}. Bold = best per column.</p>
<table><tr><th rowspan="2">method</th>{head}</tr><tr>{sub}</tr>
{''.join(body)}</table>
<p>Trained SPN beats Telea and Navier-Stokes in every metric of the All,
0.2-0.4 and 0.4-0.6 buckets: {html.escape(verdict)}</p>
{figs}
<h2>Command</h2><pre>{html.escape(report['command'])}</pre>
<p>config <code>{html.escape(report['config'])}</code>, checkpoint
<code>{html.escape(report['checkpoint'])}</code></p>
</body></html>
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--work-dir', default=None,
                        help='training work dir holding the log '
                        '(default: the checkpoint folder)')
    parser.add_argument('--command', default=None,
                        help='the command that produced the run, shown in '
                        'index.html (default: this tool\'s command line)')
    parser.add_argument('--lpips-backbone', default=None,
                        help='local torchvision AlexNet ImageNet weights '
                        '(alexnet-owt-7be5be79.pth): adds an LPIPS column')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    DefaultScope.get_instance('spn_demo_report',
                              scope_name=cfg.get('default_scope', 'mmagic'))
    os.makedirs(args.out, exist_ok=True)
    lpips_model = None
    if args.lpips_backbone is not None:
        from spn_mm.evaluation.lpips_diversity import build_lpips
        lpips_model = build_lpips('alex', backbone_path=args.lpips_backbone)
    models = dict(
        untrained=build_model(cfg), trained=build_model(cfg,
                                                         args.checkpoint))
    pairs = load_pairs(cfg)
    ratios = [p['ratio'] for p in pairs]
    vis_idx = dict((i, b) for b, i in pick_rows(ratios))
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
        preds['telea'] = opencv_inpaint(gt, mask, 'telea')
        preds['ns'] = opencv_inpaint(gt, mask, 'ns')
        comp = {
            m: quantize(
                composite(preds[m].transpose(2, 0, 1), gt.transpose(2, 0, 1),
                          mask.transpose(2, 0, 1))).transpose(1, 2, 0)
            for m in METHODS
        }
        for m in METHODS:
            row = score(preds[m], gt, mask)
            row = {k: float(row[k]) for k in METRICS}
            if lpips_model is not None:
                row['LPIPS'] = lpips_score(lpips_model, comp[m], gt)
            per_image[m].append(row)
        if i in vis_idx:
            from spn_mm.visualization import kmeans_prior_maps
            masked = gt.copy()
            masked[mask[..., 0] > 0] = 255
            maps = kmeans_prior_maps([t.numpy() for t in priors])
            vis_rows.append(dict(
                bucket=vis_idx[i], ratio=p['ratio'], masked=masked,
                trained=comp['trained'], telea=comp['telea'], gt=gt,
                priors=list(maps),
                psnr=[per_image['trained'][-1]['PSNR'],
                      per_image['telea'][-1]['PSNR']]))
    order = [b for b, _ in pick_rows(ratios)]
    vis_rows.sort(key=lambda row: order.index(row['bucket']))
    table = summarise(per_image, ratios)
    gain = {
        ref: table['trained']['All']['PSNR'] - table[ref]['All']['PSNR']
        for ref in METHODS if ref != 'trained'
    }
    manifest_hash = pairs[0]['manifest_hash'] if pairs else None
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        command=args.command or ' '.join(
            ['python', 'tools/analysis/demo_report.py'] +
            (argv if argv is not None else sys.argv[1:])),
        num_pairs=len(pairs),
        manifest_hash=manifest_hash,
        protocol='official SPN: composite, uint8 truncation, full-image '
        'PSNR (data_range 255), SSIM 11x11 uniform, grey L1 (MAE)' +
        (', LPIPS v0.1 alex on the composite' if lpips_model else ''),
        table=table,
        goal=goal_check(table),
        trained_psnr_gain_db=gain)
    with open(osp.join(args.out, 'demo_report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    md = to_markdown(table)
    with open(osp.join(args.out, 'demo_report.md'), 'w') as f:
        f.write(md + '\n')
    figures = ['demo_grid.png']
    save_grid(osp.join(args.out, 'demo_grid.png'), vis_rows)
    work_dir = args.work_dir or osp.dirname(osp.abspath(args.checkpoint))
    if save_loss_curve(osp.join(args.out, 'loss_curve.png'),
                       read_train_log(work_dir)):
        figures.append('loss_curve.png')
    with open(osp.join(args.out, 'index.html'), 'w') as f:
        f.write(to_html(report, md, figures))
    print(md)
    print('PSNR gain of the trained model (All): ' + ', '.join(
        f'{k} {v:+.2f} dB' for k, v in gain.items()))
    print('goal (trained beats telea and ns in PSNR/SSIM/MAE, buckets '
          f"{', '.join(GOAL_BUCKETS)}): "
          f"{'met' if report['goal']['met'] else 'not met'}")
    print(f'report: {osp.join(args.out, "index.html")} '
          f'(table {osp.join(args.out, "demo_report.md")}, '
          f'{osp.join(args.out, "demo_report.json")}; figures '
          + ', '.join(osp.join(args.out, f) for f in figures) + ')')
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
