"""Why the prior matters, on the demo data: SPN vs SPN "w/o teacher".

Trains the demo SPN (``configs/spn_demo.py``, edge + colour teacher and prior
distillation) and its "w/o teacher" variant (no teacher, no distillation
loss; the prior learner is still trained end-to-end through the image
losses, as ``configs/ablations/spn_paris_wo-teacher.py``) with the same
budget over several seeds, scores every run with
``tools/analysis/demo_report.py`` (official protocol, the seeded demo
manifest) and reports mean +- std (sample std, ddof=1) of PSNR / SSIM / MAE
per mask-ratio bucket, with the difference of the means and whether it is
larger than the seed noise (|diff| > std_a + std_b).

Outputs, in ``--work-dir`` (default ``work_dirs/demo_quality``):
``<variant>_seed<S>/`` (each run and its ``report/``), ``demo_quality.json``
and ``demo_quality.md``.

Usage (the full benchmark is 6 demo trainings)::

    python benchmarks/demo_quality.py [--seeds 0 1 2] [--iters N]
    # on 2 cores: one variant per process, one thread each, then compare
    OMP_NUM_THREADS=1 python benchmarks/demo_quality.py --variants default &
    OMP_NUM_THREADS=1 python benchmarks/demo_quality.py --variants wo_teacher
    wait; python benchmarks/demo_quality.py   # reuses the 6 finished runs
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from collections import OrderedDict
from typing import Dict, List

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CFG = osp.join(REPO, 'configs', 'spn_demo.py')
VARIANTS = OrderedDict(
    default='',
    wo_teacher='model = dict(teacher=None, loss_prior=None)\n'
    'model_wrapper_cfg = dict(find_unused_parameters=True)\n')
BUCKETS = ('0.0-0.2', '0.2-0.4', '0.4-0.6', 'All')
METRICS = ('PSNR', 'SSIM', 'MAE')


def scaled_schedule(iters: int) -> List[dict]:
    """The demo config's LR schedule stretched to ``iters`` iterations."""
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO_CFG)
    scale = iters / cfg.train_cfg.max_iters
    out = []
    for sched in cfg.param_scheduler:
        sched = dict(sched)
        for key in ('T_max', 'end', 'begin'):
            if key in sched:
                sched[key] = max(1, int(round(sched[key] * scale)))
        if 'milestones' in sched:
            sched['milestones'] = [max(1, int(round(m * scale)))
                                   for m in sched['milestones']]
        out.append(sched)
    return out


def write_config(path: str, variant: str, data_root: str, seed: int,
                 iters: int) -> str:
    """A config file: the demo config + the variant + seed and budget."""
    data_root = osp.abspath(data_root)
    text = (f"_base_ = [{DEMO_CFG!r}]\n"
            f"data_root = {data_root!r}\n"
            f"train_dataloader = dict(dataset=dict(data_root={data_root!r}))\n"
            f"val_dataloader = dict(dataset=dict(data_root={data_root!r}))\n"
            f"test_dataloader = dict(dataset=dict(data_root={data_root!r}))\n"
            f"randomness = dict(seed={seed})\n" + VARIANTS[variant])
    if iters is not None:
        text += f"train_cfg = dict(max_iters={iters}, val_interval={iters})\n"
        text += f"param_scheduler = {scaled_schedule(iters)!r}\n"
        text += ("default_hooks = dict(checkpoint=dict("
                 f"interval={iters}))\n")
    with open(path, 'w') as f:
        f.write(text)
    return path


def run(cmd: List[str], log: str) -> None:
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    with open(log, 'a') as f:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode:
        raise SystemExit(f'failed ({proc.returncode}): {" ".join(cmd)}; '
                         f'see {log}')


def one_run(work: str, variant: str, seed: int, data_root: str,
            iters: int) -> Dict:
    """Train (resuming a finished/partial run) and report; the table."""
    os.makedirs(work, exist_ok=True)
    cfg = write_config(osp.join(work, 'config.py'), variant, data_root, seed,
                       iters)
    log = osp.join(work, 'benchmark.log')
    report = osp.join(work, 'report', 'demo_report.json')
    if not osp.isfile(report):
        run([sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg,
             '--work-dir', work, '--resume'], log)
        with open(osp.join(work, 'last_checkpoint')) as f:
            ckpt = f.read().strip()
        run([sys.executable, osp.join(REPO, 'tools', 'analysis',
                                      'demo_report.py'), cfg, ckpt,
             '--work-dir', work, '--out', osp.join(work, 'report')], log)
    with open(report) as f:
        return json.load(f)['table']


def aggregate(tables: Dict[str, List[Dict]]) -> Dict:
    """``out[variant][bucket][metric] = {mean, std, n}`` (method trained)."""
    out = OrderedDict()
    for variant, runs in tables.items():
        out[variant] = OrderedDict()
        for b in BUCKETS:
            out[variant][b] = OrderedDict()
            for k in METRICS:
                vals = np.array([t['trained'][b][k] for t in runs])
                out[variant][b][k] = dict(
                    mean=float(vals.mean()),
                    std=float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                    n=int(len(vals)), values=vals.tolist())
    return out


def to_markdown(agg: Dict) -> str:
    names = list(agg)
    lines = ['| bucket | metric | ' + ' | '.join(names) +
             ' | diff (default - w/o) | beyond seed noise? |',
             '|---|---|' + '---|' * (len(names) + 2)]
    for b in BUCKETS:
        for k in METRICS:
            fmt = '{:.2f}' if k == 'PSNR' else '{:.4f}'
            cells = [f"{fmt.format(agg[n][b][k]['mean'])} +- "
                     f"{fmt.format(agg[n][b][k]['std'])}" for n in names]
            a, c = agg['default'][b][k], agg['wo_teacher'][b][k]
            diff = a['mean'] - c['mean']
            if min(a['n'], c['n']) < 2:
                verdict = 'n/a (one seed: no noise estimate)'
            elif abs(diff) > a['std'] + c['std']:
                verdict = 'yes'
            else:
                verdict = 'no (within noise)'
            lines.append(f'| {b} | {k} | ' + ' | '.join(cells) +
                         f' | {fmt.format(diff)} | {verdict} |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the demo '
                        "config's)")
    parser.add_argument('--data', default='data/demo',
                        help='demo data folder (built if missing)')
    parser.add_argument('--work-dir', default='work_dirs/demo_quality')
    parser.add_argument(
        '--variants', nargs='+', choices=list(VARIANTS), default=None,
        help='train only these variants (e.g. one per process on a 2-core '
        'machine); the tables compare both once every run exists')
    args = parser.parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    run([sys.executable, osp.join(REPO, 'tools', 'prepare_demo_data.py'),
         '--out', args.data], osp.join(args.work_dir, 'benchmark.log'))
    tables = OrderedDict((v, []) for v in VARIANTS)
    for seed in args.seeds:
        for variant in args.variants or VARIANTS:
            work = osp.join(args.work_dir, f'{variant}_seed{seed}')
            print(f'[demo_quality] {variant} seed {seed} -> {work}',
                  flush=True)
            tables[variant].append(
                one_run(work, variant, seed, args.data, args.iters))
    if args.variants and set(args.variants) != set(VARIANTS):
        print('[demo_quality] trained ' + ', '.join(args.variants) +
              '; run again without --variants for the comparison')
        return 0
    agg = aggregate(tables)
    res = dict(seeds=args.seeds, iters=args.iters, config=DEMO_CFG,
               variants={k: v or '(demo config)' for k, v in
                         VARIANTS.items()}, results=agg)
    with open(osp.join(args.work_dir, 'demo_quality.json'), 'w') as f:
        json.dump(res, f, indent=2)
    md = to_markdown(agg)
    with open(osp.join(args.work_dir, 'demo_quality.md'), 'w') as f:
        f.write(md + '\n')
    print(md)
    return 0


if __name__ == '__main__':
    sys.exit(main())
