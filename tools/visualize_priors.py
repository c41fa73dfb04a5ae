"""Visualise what an SPN learned (paper Fig. 10-12) on one image.

::

    python tools/visualize_priors.py CONFIG CHECKPOINT --image photo.jpg \
        --mask mask.png --out-dir vis/ [--teacher] [--num-samples 3 --seed 0]

Writes ``figure.png`` (all panels, colours consistent within the figure)
and every panel as its own PNG:

* ``prior_<h>x<w>.png``: K-means (K=8) colour maps of the prior pyramid S^l
  at every scale (Fig. 10);
* ``teacher_<h>x<w>.png`` with ``--teacher``: the frozen teacher's features
  on the un-masked image, same colours as the prior of that scale (the
  teacher's weights load from ``model.teacher.checkpoint``);
* ``feat_enc.png``, ``feat_dec.png``, ``prior_enc_level.png``: image
  features before/after the SPADE blocks (F_enc^L, F_dec^L) next to
  S_prior^L (Fig. 12);
* ``sample<k>_prior.png`` / ``sample<k>_output.png`` for probabilistic
  models with ``--num-samples K`` (Fig. 11: sampled finest priors and their
  outputs; sample k equals sample k of ``tools/inpaint.py --num-samples K
  --seed S --hd-strategy resize --resize-limit SIZE``).

The image is shrunk so that its longer side is ``--size`` (default 256, the
training resolution; 0 keeps the native size) and padded to the model's
multiple.
"""
import argparse
import os
import os.path as osp
import re
import sys


import spn_mm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402

from spn_mm.apis import HOLE_CONVENTIONS, SPNInpainter  # noqa: E402
from spn_mm.apis import write_image  # noqa: E402
from spn_mm.visualization.prior_figure import (
    compose_figure,  # noqa: E402
    prior_figure_rows)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='K-means maps of SPN priors and features',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='trained or converted checkpoint')
    parser.add_argument('--image', required=True, help='image file')
    parser.add_argument('--mask', help='mask file (see tools/inpaint.py)')
    parser.add_argument('--hole', choices=HOLE_CONVENTIONS, default='white')
    parser.add_argument('--dilate', type=int, default=0)
    parser.add_argument('--out-dir', default='prior_vis')
    parser.add_argument(
        '--size',
        type=int,
        default=256,
        help='longest side of the network input (0: native size)')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help='also show the teacher features (loads its weights)')
    parser.add_argument(
        '--num-samples',
        type=int,
        default=1,
        help='sampled priors to show (probabilistic models)')
    parser.add_argument('--seed', type=int, default=0, help='sampling seed')
    parser.add_argument('--k', type=int, default=8, help='K-means clusters')
    parser.add_argument(
        '--kmeans-seed', type=int, default=0, help='K-means seed')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def _file_name(row: str, panel: str) -> str:
    if row.startswith('sample'):
        kind = 'prior' if panel.startswith('S prior') else 'output'
        return f"{row.replace(' ', '')}_{kind}.png"
    names = {
        'masked input': 'input_masked',
        'output': 'output',
        'F_enc^L': 'feat_enc',
        'F_dec^L': 'feat_dec',
        'S_prior^L': 'prior_enc_level',
    }
    if panel in names:
        return names[panel] + '.png'
    match = re.match(r'(S prior|teacher) (\d+x\d+)', panel)
    if match:
        kind = 'prior' if match.group(1) == 'S prior' else 'teacher'
        return f'{kind}_{match.group(2)}.png'
    return re.sub(r'[^A-Za-z0-9]+', '_', panel) + '.png'


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.size < 0 or args.num_samples < 1 or args.k < 1:
        print(
            'error: --size must be >= 0, --num-samples and --k >= 1',
            file=sys.stderr)
        return 1
    strategy = 'resize' if args.size > 0 else 'original'
    inpainter = SPNInpainter(
        args.config,
        args.checkpoint,
        device=args.device,
        hd_strategy=strategy,
        resize_limit=max(args.size, 32),
        cfg_options=args.cfg_options,
        keep_teacher=args.teacher)
    if args.num_samples > 1 and not inpainter.is_probabilistic:
        print(
            'warning: deterministic model: showing one sample',
            file=sys.stderr)
    feats = inpainter.extract_features(
        args.image,
        args.mask,
        num_samples=args.num_samples,
        seed=args.seed,
        hole=args.hole,
        dilate=args.dilate,
        with_teacher=args.teacher)
    rows = prior_figure_rows(feats, k=args.k, seed=args.kmeans_seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for row, panels in rows:
        for panel, img in panels:
            write_image(osp.join(args.out_dir, _file_name(row, panel)), img)
    fig_path = osp.join(args.out_dir, 'figure.png')
    write_image(fig_path, compose_figure(rows))
    print(f'wrote {fig_path} and {sum(len(p) for _, p in rows)} panels')
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
