"""Parameters, FLOPs and latency of an SPN config (paper Table 6 row).

::

    python tools/analysis/model_complexity.py configs/spn_places2.py \
        [--shape 256 256] [--device cpu|cuda] [--repeats 10] [--warmup 3] \
        [--no-latency] [--json out.json]

Prints a table (generator / prior learner / distillation heads / variational
prior / image generator / discriminator parameters, FLOPs per part, median
latency) and a JSON report (to ``--json`` or, without it, to stdout after
the table). FLOPs are counted on the ``meta`` device (no compute); latency
runs the generator with random weights on ``--device`` (median of
``--repeats`` runs after ``--warmup`` runs). See
:mod:`spn_mm.analysis.complexity`.
"""
import argparse
import json
import os
import os.path as osp
import sys


import spn_mm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402

from spn_mm.analysis.complexity import (
    complexity_report,  # noqa: E402
    format_report)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='SPN parameters, FLOPs and latency',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[256, 256],
        help='input H W (or one value for a square)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument(
        '--device',
        default='cpu',
        help='device for the latency runs (cpu, cuda[:N])')
    parser.add_argument(
        '--repeats', type=int, default=10, help='timed runs (median reported)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed runs before timing')
    parser.add_argument(
        '--no-latency',
        action='store_true',
        help='only count parameters and FLOPs')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads for the latency runs')
    parser.add_argument('--json', help='write the JSON report here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    report = complexity_report(
        args.config,
        shape=args.shape,
        batch=args.batch,
        device=args.device,
        latency=not args.no_latency,
        repeats=args.repeats,
        warmup=args.warmup,
        cfg_options=args.cfg_options)
    print(format_report(report))
    text = json.dumps(report, indent=2)
    if args.json:
        parent = osp.dirname(args.json)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(args.json, 'w') as f:
            f.write(text + '\n')
        print(f'wrote {args.json}')
    else:
        print(text)
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
