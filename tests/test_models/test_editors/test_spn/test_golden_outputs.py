"""The five paper generators still compute the outputs recorded before the
codebase refactor (tests/data/golden/make_golden.py wrote them): same
seeded initialisation, same fixed input, same function."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.registry import init_default_scope
from utils import REPO_ROOT

GOLDEN = osp.join(REPO_ROOT, 'tests', 'data', 'golden')
sys.path.insert(0, GOLDEN)
import make_golden  # noqa: E402


@pytest.mark.parametrize('name', make_golden.CONFIGS)
def test_generator_output_equals_the_golden_output(name):
    init_default_scope('mmagic')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        masked, mask = make_golden.golden_input()
        gen = make_golden.build_generator(name)
        with torch.no_grad():
            out = gen(masked, mask, mode='test', num_samples=2, seed=7)
    finally:
        torch.set_num_threads(threads)
    golden = torch.load(osp.join(GOLDEN, name.replace('.py', '.pt')))
    assert out.shape == golden.shape
    assert torch.allclose(out, golden, rtol=0, atol=1e-6), \
        float((out - golden).abs().max())
