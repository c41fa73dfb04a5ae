"""SPNGenerator.fuse(): exact inference speed-up, same state_dict.

Reference: an un-fused copy of the same generator (the official
structure)."""
import copy

import pytest
import torch

from test_apis.spn_api_fixtures import TINY, build_training_model


@pytest.mark.parametrize('variant', ['det', 'prob'])
def test_fused_equals_reference_and_keeps_state_dict(variant):
    gen = build_training_model(TINY[variant]).generator.eval()
    # non-zero SPADE gamma/beta weights (their init may be small)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in gen.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.02)
    fused = copy.deepcopy(gen).fuse()
    ref_sd, sd = gen.state_dict(), fused.state_dict()
    assert ref_sd.keys() == sd.keys()
    assert all(torch.equal(ref_sd[k], sd[k]) for k in sd)
    masked = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    mask = torch.zeros(2, 1, 64, 64)
    mask[..., 16:40, 8:48] = 1
    masked = masked * (1 - mask)
    with torch.no_grad():
        ref = gen.forward_test(masked, mask, num_samples=2, seed=5)
        out = fused.forward_test(masked, mask, num_samples=2, seed=5)
    assert (ref - out).abs().max().item() <= 1e-5
    # strict loading still works on a fused generator (buffers are not
    # persistent); training mode ignores the fused weights
    fused.load_state_dict(ref_sd, strict=True)
    fused.train()
    gen.train()
    torch.manual_seed(0)
    a = gen.forward_train(masked, mask)['out']
    torch.manual_seed(0)
    b = fused.forward_train(masked, mask)['out']
    assert torch.equal(a, b)
