"""benchmarks/bench_memory.py: one in-process measurement step on the tiny
config (the real runs use a fresh process per measurement; not part of the
suite) and the exponent fit."""

import pytest
import torch
from utils import load_script


BENCH = load_script('benchmarks/bench_memory.py', 'spn_bench_memory')


def test_exponent_fit():
    assert BENCH.exponent([1, 4, 16], [3, 12, 48]) == pytest.approx(1.0)
    assert BENCH.exponent([1, 4], [5, 5]) == pytest.approx(0.0)
    assert BENCH.exponent([1], [2]) is None


def test_child_measures_both_paths(tmp_path):
    outs = {}
    threads = torch.get_num_threads()
    try:
        for path in BENCH.PATHS:
            save = str(tmp_path / f'{path}.pt')
            args = BENCH.parse_args(['--child', '--dry-run', '--size', '32',
                                     '--path', path, '--save', save])
            row = BENCH.child(args)
            assert row['path'] == path and row['seconds'] > 0
            assert row['peak_mb'] >= row['baseline_mb'] > 0
            outs[path] = torch.load(save)
    finally:  # child() sets them for its own (fresh) process
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)
    assert outs['low_memory'].shape == (1, 3, 32, 32)
    assert float((outs['low_memory'] - outs['reference']).abs().max()) <= 1e-5
