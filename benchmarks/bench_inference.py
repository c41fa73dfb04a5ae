"""SPN generator inference benchmark: reference path vs fast paths.

    python benchmarks/bench_inference.py [--variants det prob] \
        [--sizes 256 512 1024] [--batches 1 4] [--precisions fp32 bf16] \
        [--channels-last both] [--compile] [--nnpack] [--device cpu] \
        [--out res.json]

For every (variant, size, batch) the configurations are timed round-robin
in one process (median/min/max after warm-up): the **reference path**
(fp32, NCHW, no fusion, no compile: the official structure) and each fast
path (``SPNGenerator.fuse()`` x precision x channels_last x torch.compile;
``--nnpack``: the fused fp32 generator with NNPACK's Winograd/FFT 3x3
convolutions on maps >= 64 px, ``bench_utils.nnpack_conv2d``, a probe that
is not exact). Reported per row: seconds,
images/s, effective GFLOP/s (FLOPs counted by
``spn_mm.analysis.complexity.count_flops``) and its fraction of the measured
conv peak of the same precision, peak memory (RSS on CPU sampled during
the row's warm-up, ``max_memory_allocated`` on CUDA), the speed ratio to
the reference path, and the difference of the output from the reference
(max |diff| in [-1, 1], PSNR over the hole pixels in 0-255).
``--checkpoint`` benchmarks trained weights (default: random init).
``--dry-run``: the tiny test configs at 32 px, one repetition (a check that
every step runs, not a measurement).
"""
import argparse
import contextlib
import copy
import os
import os.path as osp
import sys
from typing import Dict, List

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import spn_mm  # noqa: E402,F401
from bench_utils import (GENERATOR_CONFIGS, TINY_CONFIGS,  # noqa: E402
                         conv_peak, conv_peak_key, interleaved,
                         machine_header, nnpack_conv2d, write_report)
from spn_mm.apis import init_spn_model  # noqa: E402
from spn_mm.models.editors.spn.precision import (  # noqa: E402
    as_memory_format, check_precision, precision_context, to_memory_format)
from spn_mm.analysis.complexity import count_flops  # noqa: E402

CONFIGS, TINY = GENERATOR_CONFIGS, TINY_CONFIGS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variants', nargs='+', default=['det', 'prob'],
                   choices=['det', 'prob'])
    p.add_argument('--config', action='append', default=[],
                   metavar='VARIANT=PATH', help='override a variant config')
    p.add_argument('--checkpoint', action='append', default=[],
                   metavar='VARIANT=PATH', help='weights (default random)')
    p.add_argument('--sizes', nargs='+', type=int, default=[256, 512, 1024])
    p.add_argument('--batches', nargs='+', type=int, default=[1, 4])
    p.add_argument('--precisions', nargs='+', default=None,
                   help='default: fp32 bf16 (CPU), fp32 fp16 bf16 (CUDA)')
    p.add_argument('--channels-last', choices=['both', 'on', 'off'],
                   default='both')
    p.add_argument('--compile', action='store_true',
                   help='also time torch.compile variants (where it works)')
    p.add_argument('--nnpack', action='store_true',
                   help='also time fp32 with NNPACK 3x3 convolutions (CPU)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', help='JSON results file')
    p.add_argument('--dry-run', action='store_true',
                   help='tiny configs, 32 px, batch 1, one repetition')
    args = p.parse_args(argv)
    if args.dry_run:
        args.sizes, args.batches = [32], [1]
        args.warmup, args.repeats = 1, 1
    return args


def _pairs(items: List[str]) -> Dict[str, str]:
    out = {}
    for item in items:
        key, _, value = item.partition('=')
        out[key] = value
    return out


def make_inputs(size: int, batch: int, device: torch.device):
    """Seeded masked image in [-1, 1] (holes 0) and a centred square hole
    (1 = hole) covering a quarter of the image."""
    g = torch.Generator().manual_seed(0)
    img = torch.rand(batch, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(batch, 1, size, size)
    mask[..., size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    return (img * (1 - mask)).to(device), mask.to(device)


def bench_group(gen_ref, variant: str, size: int, batch: int, args,
                device: torch.device, peaks: Dict[str, float]) -> List[Dict]:
    gen_fused = copy.deepcopy(gen_ref).fuse()
    gen_cl = to_memory_format(copy.deepcopy(gen_fused), True)
    masked, mask = make_inputs(size, batch, device)
    flops = count_flops(gen_ref, (size, size), batch)['total']
    cl_opts = dict(both=[False, True], on=[True], off=[False])[
        args.channels_last]
    runs, outs, meta = {}, {}, {}

    def make(name, gen, prec, cl):
        fn_gen = gen.forward_test
        if name.endswith('+compile'):
            fn_gen = torch.compile(gen.forward_test)
        convs = nnpack_conv2d if name.endswith('+nnpack') else \
            contextlib.nullcontext

        def run():
            with torch.no_grad(), precision_context(prec, device), convs():
                outs[name] = fn_gen(
                    as_memory_format(masked, cl), mask, seed=0).float()

        runs[name] = run
        meta[name] = (prec, cl)

    make('reference fp32/nchw', gen_ref, 'fp32', False)
    for prec in args.precisions:
        for cl in [False] if prec == 'fp32' else cl_opts:
            check_precision(prec, device, cl)
            make(f'{prec}/{"cl" if cl else "nchw"}+fused', gen_cl if cl else
                 gen_fused, prec, cl)
        if prec == 'fp32' and True in cl_opts:
            make('fp32/cl+fused', gen_cl, 'fp32', True)
    if args.nnpack and device.type == 'cpu':
        make('fp32/nchw+fused+nnpack', gen_fused, 'fp32', False)
    if args.compile:
        for prec in args.precisions:
            cl = prec != 'fp32' or device.type == 'cuda'
            name = f'{prec}/{"cl" if cl else "nchw"}+fused+compile'
            try:
                make(name, gen_cl if cl else gen_fused, prec, cl)
                runs[name]()
            except Exception as err:  # compile needs a working toolchain
                print(f'# {variant} {size} b{batch} {name}: torch.compile '
                      f'failed: {str(err).splitlines()[0][:200]}')
                runs.pop(name)
    res = interleaved(runs, device, args.warmup, args.repeats)
    ref = res['reference fp32/nchw']['median']
    ref_out = outs['reference fp32/nchw']
    holes = mask.expand_as(ref_out).bool()
    rows = []
    for name, r in res.items():
        prec, cl = meta[name]
        diff = (outs[name] - ref_out)
        mse = float(((diff[holes] * 127.5)**2).mean())
        peak = peaks.get(f'{prec}/{"cl" if cl else "nchw"}')
        gflops = flops / r['median'] / 1e9
        rows.append({
            'variant': variant, 'size': size, 'batch': batch,
            'path': name, 'median_s': r['median'], 'min_s': r['min'],
            'max_s': r['max'], 'img_per_s': batch / r['median'],
            'gflop': flops / 1e9, 'gflop_per_s': gflops,
            'of_conv_peak': None if not peak else gflops / peak,
            'peak_mb': r['peak_mb'], 'speedup_vs_ref': ref / r['median'],
            'max_abs_diff': float(diff.abs().max()),
            'hole_psnr_db': (float('inf') if mse == 0 else
                             float(10 * torch.log10(torch.tensor(
                                 255.**2 / mse))))})
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.precisions is None:
        args.precisions = ['fp32', 'fp16', 'bf16'] if device.type == \
            'cuda' else ['fp32', 'bf16']
    if device.type == 'cpu':
        torch.set_flush_denormal(True)
    configs = dict(TINY if args.dry_run else CONFIGS)
    configs.update(_pairs(args.config))
    ckpts = _pairs(args.checkpoint)
    header = machine_header(device)
    header[conv_peak_key(args.dry_run)] = peaks = conv_peak(
        device, args.precisions, dry_run=args.dry_run)
    header['configs'] = {v: osp.relpath(configs[v], REPO)
                         for v in args.variants}
    header['warmup/repeats'] = f'{args.warmup}/{args.repeats}'
    header['command'] = 'python benchmarks/bench_inference.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    peaks_by_path = {k: v for k, v in peaks.items()}
    rows = []
    for variant in args.variants:
        model = init_spn_model(configs[variant], ckpts.get(variant),
                               device=device)
        gen = model.generator
        for size in args.sizes:
            for batch in args.batches:
                rows += bench_group(gen, variant, size, batch, args, device,
                                    peaks_by_path)
    cols = ['variant', 'size', 'batch', 'path', 'median_s', 'min_s', 'max_s',
            'img_per_s', 'gflop_per_s', 'of_conv_peak', 'peak_mb',
            'speedup_vs_ref', 'max_abs_diff', 'hole_psnr_db']
    write_report('SPN inference' + (' (dry run)' if args.dry_run else ''),
                 header, cols, rows, args.out)
    return 0


if __name__ == '__main__':
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    sys.exit(main())
