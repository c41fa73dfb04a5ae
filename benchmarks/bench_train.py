"""SPN training-step benchmark: one full ``SPNInpaintor.train_step``
(teacher targets, generator, D step where the config has a discriminator,
G step with every configured loss).

    python benchmarks/bench_train.py [--variants det prob] \
        [--width reduced|full] [--size 64] [--batch 4] [--device cpu] \
        [--out res.json]

Paths, timed round-robin in one process (median/min/max after warm-up):
the **reference path** (fp32 ``OptimWrapper``, NCHW) and the fast paths:
fp32 channels_last; on CPU bf16 autocast (``SPNAutocastOptimWrapper``, what
``tools/train.py --amp`` uses there) in NCHW and channels_last; on CUDA
fp16 + GradScaler and bf16 (``AmpOptimWrapper``). Each path trains its own
copy of the same initial model. ``--width reduced``: ``configs/spn_demo.py``
(det, 64 px) and ``tests/configs/spn_tiny_prob.py`` (prob); ``full``: the
paper configs with a random-weight TResNet-L teacher and a random VGG
(no weight files needed). ``--dry-run``: tiny test configs, 32 px, batch
1, one repetition.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Dict, List

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import spn_mm  # noqa: E402,F401
from bench_utils import (conv_peak, conv_peak_key,  # noqa: E402
                         interleaved, machine_header, write_report)
from mmagic.structures import DataSample  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapperDict, build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from spn_mm.models.editors.spn.precision import to_memory_format  # noqa
from spn_mm.registry import MODELS  # noqa: E402
from spn_mm.analysis.complexity import count_flops  # noqa: E402

ADAM = osp.join(REPO, 'configs', '_base_', 'schedules', 'spn_adam.py')
RAND_TEACHER = osp.join(REPO, 'configs', '_base_', 'teachers',
                        'rand_tresnet_l.py')
CONFIGS = {
    ('det', 'reduced'): osp.join(REPO, 'configs', 'spn_demo.py'),
    ('prob', 'reduced'): osp.join(REPO, 'tests', 'configs',
                                  'spn_tiny_prob.py'),
    ('det', 'full'): osp.join(REPO, 'configs', 'spn_places2.py'),
    ('prob', 'full'): osp.join(REPO, 'configs', 'spn_celebahq_prob.py'),
    ('det', 'tiny'): osp.join(REPO, 'tests', 'configs', 'spn_tiny_det.py'),
    ('prob', 'tiny'): osp.join(REPO, 'tests', 'configs', 'spn_tiny_prob.py'),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variants', nargs='+', default=['det', 'prob'],
                   choices=['det', 'prob'])
    p.add_argument('--width', choices=['reduced', 'full'], default='reduced')
    p.add_argument('--size', type=int, default=None,
                   help='default 64 (reduced) / 256 (full)')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', help='JSON results file')
    p.add_argument('--dry-run', action='store_true')
    args = p.parse_args(argv)
    if args.size is None:
        args.size = 256 if args.width == 'full' else 64
    if args.dry_run:
        args.width, args.size, args.batch = 'tiny', 32, 1
        args.warmup, args.repeats = 1, 1
    return args


def build_model(variant: str, width: str) -> torch.nn.Module:
    """The training model (random init) of a benchmark config."""
    cfg = Config.fromfile(CONFIGS[(variant, width)])
    if width == 'full':
        teacher = Config.fromfile(RAND_TEACHER).rand_tresnet_l_teacher
        cfg.model.teacher = teacher
        for key in ('loss_percep', 'loss_diversity'):
            if cfg.model.get(key):
                cfg.model[key].update(vgg_path=None, allow_random=True)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def optim_cfg(kind: str, model: torch.nn.Module) -> Dict:
    """MultiOptimWrapperConstructor config of one path (official Adam) for
    the trained parts the model has (``configs/spn_demo.py`` has no
    discriminator)."""
    base = Config.fromfile(ADAM).optim_wrapper.to_dict()
    if getattr(model, 'disc', None) is None:
        base.pop('disc')
    extra = dict(
        fp32=dict(type='OptimWrapper'),
        bf16_cpu=dict(type='SPNAutocastOptimWrapper', dtype='bfloat16'),
        fp16_cuda=dict(type='AmpOptimWrapper', loss_scale='dynamic'),
        bf16_cuda=dict(type='AmpOptimWrapper', dtype='bfloat16'))[kind]
    for key in ('generator', 'disc'):
        if key in base:
            base[key].update(extra)
    return base


def make_batch(batch: int, size: int) -> dict:
    g = torch.Generator().manual_seed(0)
    samples, inputs = [], []
    for i in range(batch):
        gt = torch.rand(3, size, size, generator=g) * 255
        mask = torch.zeros(1, size, size)
        mask[:, size // 4 + i:size // 2 + i, size // 4:3 * size // 4] = 1
        samples.append(DataSample(gt_img=gt, mask=mask))
        inputs.append(gt * (1 - mask) + 127.5 * mask)
    return dict(inputs=inputs, data_samples=samples)


def main(argv=None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == 'cpu':
        torch.set_flush_denormal(True)
    precs = ['fp32', 'fp16', 'bf16'] if device.type == 'cuda' else [
        'fp32', 'bf16']
    header = machine_header(device)
    header[conv_peak_key(args.dry_run)] = peaks = conv_peak(
        device, precs, dry_run=args.dry_run)
    header['width/size/batch'] = f'{args.width}/{args.size}/{args.batch}'
    header['warmup/repeats'] = f'{args.warmup}/{args.repeats}'
    header['command'] = 'python benchmarks/bench_train.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    if device.type == 'cuda':
        paths = [('reference fp32/nchw', 'fp32', False),
                 ('fp32/cl', 'fp32', True),
                 ('fp16+GradScaler/cl', 'fp16_cuda', True),
                 ('bf16/cl', 'bf16_cuda', True)]
    else:
        paths = [('reference fp32/nchw', 'fp32', False),
                 ('fp32/cl', 'fp32', True), ('bf16/nchw', 'bf16_cpu', False),
                 ('bf16/cl', 'bf16_cpu', True)]
    rows: List[Dict] = []
    for variant in args.variants:
        base = build_model(variant, args.width).to(device)
        # forward FLOPs of the generator (one sample); a step is ~3x that
        # per generator sample plus teacher, D and VGG
        gflop = count_flops(base.generator, (args.size, args.size),
                            args.batch)['total'] / 1e9
        data = make_batch(args.batch, args.size)
        runs = {}
        for name, kind, cl in paths:
            model = to_memory_format(copy.deepcopy(base), cl)
            with DefaultScope.overwrite_default_scope('mmagic'):
                optim = build_optim_wrapper(model, optim_cfg(kind, model))
            assert isinstance(optim, OptimWrapperDict)

            def run(model=model, optim=optim):
                logs = model.train_step(data, optim)
                for key, value in logs.items():
                    if not torch.isfinite(value).all():
                        raise RuntimeError(f'non-finite {key}')

            runs[name] = run
        res = interleaved(runs, device, args.warmup, args.repeats)
        ref = res['reference fp32/nchw']['median']
        for name, r in res.items():
            rows.append({
                'variant': variant, 'width': args.width, 'size': args.size,
                'batch': args.batch, 'path': name, 'median_s': r['median'],
                'min_s': r['min'], 'max_s': r['max'],
                'img_per_s': args.batch / r['median'],
                'gen_fwd_gflop': gflop, 'peak_mb': r['peak_mb'],
                'speedup_vs_ref': ref / r['median']})
        del base, runs
    cols = ['variant', 'width', 'size', 'batch', 'path', 'median_s', 'min_s',
            'max_s', 'img_per_s', 'gen_fwd_gflop', 'peak_mb',
            'speedup_vs_ref']
    header['note'] = ('peak_mb: peak RSS during the path\'s warm-up (CPU) / '
                      'max_memory_allocated (CUDA); conv peaks: ' +
                      str(peaks))
    write_report('SPN training step' + (' (dry run)' if args.dry_run else
                                        ''), header, cols, rows, args.out)
    return 0


if __name__ == '__main__':
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    sys.exit(main())
