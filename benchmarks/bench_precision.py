"""bf16 (or fp16) vs fp32 inference on real photos, PSNR on hole pixels.

    python benchmarks/bench_precision.py CONFIG CHECKPOINT \
        --manifest data/demo/meta/eval_manifest.jsonl \
        --images data/demo/val --masks data/demo/val_masks [--precision bf16]

Runs :class:`spn_mm.apis.SPNInpainter` twice (``precision='fp32'``, the
reference, and ``--precision``) on every manifest pair and reports the
PSNR between the two composites over the hole pixels only,
``10 * log10(255^2 / mean((a - b)^2))``, per image (min/median/mean) and
over all hole pixels pooled.
"""
import argparse
import json
import os.path as osp
import statistics
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from spn_mm.apis import SPNInpainter, load_mask, read_image  # noqa: E402


def hole_psnr(sq_err_sum: float, count: int) -> float:
    """PSNR from a sum of squared 0-255 errors over ``count`` values."""
    mse = sq_err_sum / max(count, 1)
    return float('inf') if mse == 0 else 10 * np.log10(255.**2 / mse)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--manifest', required=True)
    p.add_argument('--images', required=True)
    p.add_argument('--masks', required=True)
    p.add_argument('--precision', default='bf16')
    p.add_argument('--device', default='cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='JSON results file')
    args = p.parse_args(argv)
    ref = SPNInpainter(args.config, args.checkpoint, device=args.device)
    fast = SPNInpainter(args.config, args.checkpoint, device=args.device,
                        precision=args.precision)
    rows = []
    total, count = 0., 0
    with open(args.manifest) as f:
        entries = [json.loads(line) for line in f][1:]
    for e in entries:
        img = read_image(osp.join(args.images, e['img']))
        mask_path = osp.join(args.masks, e['mask'])
        holes = load_mask(mask_path, image_size=img.shape[:2])
        a = ref.inpaint(img, mask_path, seed=args.seed)
        b = fast.inpaint(img, mask_path, seed=args.seed)
        d = a[holes].astype(np.float64) - b[holes].astype(np.float64)
        sq, n = float((d**2).sum()), d.size
        total, count = total + sq, count + n
        rows.append(dict(img=e['img'], mask=e['mask'],
                         hole_psnr_db=hole_psnr(sq, n),
                         max_abs_diff=float(np.abs(d).max()) if n else 0.))
    finite = [r['hole_psnr_db'] for r in rows]
    res = dict(
        config=args.config, checkpoint=args.checkpoint,
        precision=args.precision, images=len(rows),
        pooled_hole_psnr_db=hole_psnr(total, count),
        per_image_min_db=min(finite), per_image_median_db=statistics.median(
            finite), per_image_mean_db=statistics.mean(
                [min(v, 100.) for v in finite]),
        max_abs_diff=max(r['max_abs_diff'] for r in rows))
    print(json.dumps(res, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(summary=res, rows=rows), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
