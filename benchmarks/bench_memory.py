"""Peak memory and time of one SPN inference: reference vs low-memory path.

    python benchmarks/bench_memory.py [--variant det] [--sizes 256 512 1024] \
        [--paths reference low_memory] [--tile-pixels 131072] [--out res.json]

Every (size, path) runs in a **fresh subprocess**, so that its peak RSS is
clean: the child builds the generator (random weights, seed 0, the same in
every child), makes the inputs of ``bench_inference.make_inputs`` (batch 1),
reads its current RSS (``baseline``: interpreter, libraries, weights,
inputs), runs one ``SPNGenerator.forward_test`` under ``torch.no_grad()``
(``low_memory=False``: the whole-image reference forward;
``low_memory=True``: the exact row-stripe path) and reads the peak RSS
(``VmHWM``) and the wall time. The parent reports per row the time, the
peak RSS, ``peak - baseline`` (the forward's own memory) and the max |diff|
of the output against the reference path of the same size, and per path
the exponents of time and of ``peak - baseline`` versus pixels (least
squares on log-log over the sizes; 1 = linear).
``--dry-run``: the tiny test config at 32 and 64 px (a check that every step
runs, not a measurement).
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'benchmarks'))
from bench_utils import GENERATOR_CONFIGS as CONFIGS  # noqa: E402
from bench_utils import TINY_CONFIGS as TINY  # noqa: E402

PATHS = ('reference', 'low_memory')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variant', default='det', choices=['det', 'prob'])
    p.add_argument('--config', help='override the variant config')
    p.add_argument('--sizes', nargs='+', type=int, default=[256, 512, 1024])
    p.add_argument('--paths', nargs='+', default=list(PATHS), choices=PATHS)
    p.add_argument('--skip', action='append', default=[],
                   metavar='PATH=SIZE', help='leave out one measurement')
    p.add_argument('--tile-pixels', type=int, default=None,
                   help='stripe size of the low-memory path (default: '
                   'DEFAULT_TILE_PIXELS)')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out', help='JSON results file')
    p.add_argument('--dry-run', action='store_true',
                   help='tiny config, 32 and 64 px')
    # internal: one measurement in this process
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--size', type=int, help=argparse.SUPPRESS)
    p.add_argument('--path', choices=PATHS, help=argparse.SUPPRESS)
    p.add_argument('--save', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.dry_run:
        args.sizes = [32, 64]
    return args


def _status_kb(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def child(args: argparse.Namespace) -> Dict:
    """One measurement in this (fresh) process."""
    import torch
    from bench_inference import make_inputs
    from spn_mm.apis import init_spn_model
    from spn_mm.models.editors.spn.row_tiling import DEFAULT_TILE_PIXELS

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    config = args.config or (TINY if args.dry_run else CONFIGS)[args.variant]
    torch.manual_seed(0)
    gen = init_spn_model(config, None, device='cpu').generator.eval()
    masked, mask = make_inputs(args.size, 1, torch.device('cpu'))
    tile = args.tile_pixels or DEFAULT_TILE_PIXELS
    baseline_kb = _status_kb('VmRSS')
    before_hwm_kb = _status_kb('VmHWM')
    t0 = time.perf_counter()
    with torch.no_grad():
        out = gen.forward_test(
            masked,
            mask,
            low_memory=args.path == 'low_memory',
            tile_pixels=tile)
    seconds = time.perf_counter() - t0
    peak_kb = _status_kb('VmHWM')
    torch.save(out, args.save)
    return dict(
        size=args.size,
        path=args.path,
        tile_pixels=tile if args.path == 'low_memory' else None,
        seconds=seconds,
        baseline_mb=baseline_kb / 1024,
        peak_mb=peak_kb / 1024,
        forward_mb=(peak_kb - baseline_kb) / 1024,
        peak_before_forward_mb=before_hwm_kb / 1024,
        threads=torch.get_num_threads())


def exponent(xs: List[float], ys: List[float]) -> Optional[float]:
    """Least-squares slope of log(y) vs log(x) (None with < 2 points)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx)**2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        res = child(args)
        print('RESULT ' + json.dumps(res), flush=True)
        return 0
    import torch
    from bench_utils import machine_header, write_report

    header = machine_header(torch.device('cpu'))
    header['threads'] = args.threads
    header['config'] = osp.relpath(
        args.config or (TINY if args.dry_run else CONFIGS)[args.variant],
        REPO)
    header['command'] = 'python benchmarks/bench_memory.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    skip = set(args.skip)
    rows = []
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               PYTHONWARNINGS='ignore')
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            outs = {}
            for path in args.paths:
                if f'{path}={size}' in skip:
                    continue
                save = osp.join(tmp, f'{path}_{size}.pt')
                cmd = [sys.executable, osp.abspath(__file__), '--child',
                       '--variant', args.variant, '--size', str(size),
                       '--path', path, '--save', save,
                       '--threads', str(args.threads)]
                if args.config:
                    cmd += ['--config', args.config]
                if args.tile_pixels:
                    cmd += ['--tile-pixels', str(args.tile_pixels)]
                if args.dry_run:
                    cmd.append('--dry-run')
                proc = subprocess.run(cmd, env=env, capture_output=True,
                                      text=True)
                lines = [line for line in proc.stdout.splitlines()
                         if line.startswith('RESULT ')]
                if proc.returncode or not lines:
                    print(proc.stdout[-2000:], proc.stderr[-4000:])
                    raise RuntimeError(f'{path} at {size} failed')
                row = json.loads(lines[-1][len('RESULT '):])
                row['load_average_after'] = os.getloadavg()[0]
                outs[path] = torch.load(save)
                rows.append(row)
                print(f'# {path} {size}: {row["seconds"]:.1f} s, peak '
                      f'{row["peak_mb"]:.0f} MB (forward '
                      f'{row["forward_mb"]:.0f} MB)', flush=True)
            for row in rows:
                if row['size'] == size and 'reference' in outs:
                    row['max_abs_diff_vs_reference'] = float(
                        (outs[row['path']] - outs['reference']).abs().max())
    summary = {}
    for path in args.paths:
        sel = [r for r in rows if r['path'] == path]
        pixels = [r['size']**2 for r in sel]
        summary[path] = dict(
            sizes=[r['size'] for r in sel],
            time_exponent=exponent(pixels, [r['seconds'] for r in sel]),
            forward_memory_exponent=exponent(
                pixels, [r['forward_mb'] for r in sel]))
    header['exponents vs pixels'] = summary
    cols = ['size', 'path', 'seconds', 'baseline_mb', 'peak_mb',
            'forward_mb', 'max_abs_diff_vs_reference', 'load_average_after']
    write_report('SPN inference memory' + (' (dry run)' if args.dry_run
                                           else ''), header, cols, rows,
                 args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
