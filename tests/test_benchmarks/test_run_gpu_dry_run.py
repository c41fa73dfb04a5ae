"""benchmarks/run_gpu.sh --dry-run: the steps of the CUDA script on CPU
(tiny benchmarks, demo data, dist_train.sh with --amp, which is bf16
autocast on CPU, then tools/test.py; the plain dist_train.sh path is the
tools' own tests). Benchmarks themselves never
run in the suite."""
import glob
import json
import math
import os.path as osp
import sys

import torch
from utils import REPO_ROOT, run_cmd, free_port


def test_run_gpu_dry_run(tmp_path):
    out = str(tmp_path / 'run')
    proc = run_cmd(['bash', osp.join(REPO_ROOT, 'benchmarks', 'run_gpu.sh'),
                    '--dry-run', out], timeout=900,
                   env=dict(PYTHON=sys.executable, PORT=str(free_port())))
    log = proc.stdout
    steps = ['bench_inference', 'bench_train', 'demo_data', 'train_amp',
             'test_train_amp']
    for step in steps:
        assert f'PASS {step} (' in log, log[-3000:]
    assert 'FAIL' not in log
    inf = json.load(open(osp.join(out, 'bench_inference.json')))
    assert {'cpu_flags', 'versions'} <= set(inf['header'])
    assert any(k.startswith('conv_peak_gflops (3x3 ') for k in inf['header'])
    ref = [r for r in inf['rows'] if r['path'] == 'reference fp32/nchw']
    assert ref and ref[0]['speedup_vs_ref'] == 1.0
    assert ref[0]['max_abs_diff'] == 0 and ref[0]['peak_mb'] > 0
    for path in ('fp32/nchw+fused', 'fp32/cl+fused'):  # exact fast paths
        row = [r for r in inf['rows'] if r['path'] == path][0]
        assert row['max_abs_diff'] <= 1e-5, row
    train = json.load(open(osp.join(out, 'bench_train.json')))
    assert {r['path'] for r in train['rows']} >= {'reference fp32/nchw',
                                                  'bf16/cl'}
    # --amp (CPU bf16) trained: weights moved between iterations, finite
    amp = osp.join(out, 'train_amp')
    w1 = torch.load(osp.join(amp, 'iter_1.pth'), weights_only=False)
    w2 = torch.load(osp.join(amp, 'iter_2.pth'), weights_only=False)
    gen = [k for k in w2['state_dict'] if k.startswith('generator.')]
    assert any(not torch.equal(w1['state_dict'][k], w2['state_dict'][k])
               for k in gen)
    assert all(torch.isfinite(w2['state_dict'][k]).all() for k in gen)
    train_log = open(osp.join(out, 'train_amp.log')).read()
    assert 'bfloat16 autocast on CPU' in train_log
    rows = []
    for path in glob.glob(osp.join(amp, '*', 'vis_data', 'scalars.json')):
        rows += [json.loads(line) for line in open(path) if line.strip()]
    losses = [v for r in rows for k, v in r.items() if k.startswith('loss')]
    assert losses and all(math.isfinite(v) for v in losses)
    metrics = json.load(open(osp.join(amp, 'test_metrics.json')))
    assert metrics
