"""The low-memory inference path (``SPNGenerator(..., low_memory=True)``)
against the independent reference: the default whole-image forward of the
same module, at small sizes with stripes of 1-3 rows (many stripes, every
halo and reflect border exercised)."""
import copy

import pytest
import torch
import torch.nn as nn

from spn_mm.models.editors.spn import SPNGenerator
from spn_mm.models.editors.spn.row_tiling import (conv_rows,
                                                  instance_norm_stats,
                                                  materialize,
                                                  normalize_rows,
                                                  pixel_shuffle_rows,
                                                  tensor_rows, up2_rows)
from spn_mm.models.editors.spn.spn_blocks import SPNRegionNorm
from spn_mm.registry import MODELS
from utils import TINY_GEN, TINY_LEARNER, TINY_VAR

TOL = 1e-5

# three RDBs (the shared tiny learner has two)
LEARNER = dict(TINY_LEARNER, num_rdbs=3)


def _build(prob: bool = False, learner_kw=None, gen_kw=None) -> SPNGenerator:
    torch.manual_seed(0)
    gen = MODELS.build(
        dict(
            type='SPNGenerator',
            prior_learner=dict(LEARNER, **(learner_kw or {})),
            image_generator=dict(TINY_GEN, **(gen_kw or {})),
            variational=copy.deepcopy(TINY_VAR) if prob else None))
    # non-zero RegionNorm affines, so that both regions' terms matter
    with torch.no_grad():
        for name, p in gen.named_parameters():
            if 'gamma' in name.split('.')[-1] or 'beta' in name.split(
                    '.')[-1]:
                p.normal_(0, 0.3)
    return gen.eval()


def _inputs(b: int, h: int, w: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(b, 3, h, w, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, h, w)
    mask[0, :, 3:h // 2 + 1, 5:w - 7] = 1  # odd offsets
    mask[0, :, h - 5:, :6] = 1  # touches the bottom/left borders
    if b > 1:
        mask[1] = (torch.rand(1, h, w, generator=g) < 0.3).float()
    return img * (1 - mask), mask


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.mark.parametrize('tile', [1, 40, 10**6])
def test_det_matches_reference(tile):
    """Non-square 2-image batch, odd hole layouts; tile 1 = 1-row stripes
    everywhere, 10**6 = one stripe."""
    gen = _build()
    masked, mask = _inputs(2, 24, 40)
    with torch.no_grad():
        ref = gen.forward_features(masked, mask)
    low = gen.forward_features(
        masked, mask, low_memory=True, tile_pixels=tile)
    assert not low.out.requires_grad
    assert low.distill == []
    assert _max_diff(low.out, ref.out) <= TOL
    assert _max_diff(low.feat_enc, ref.feat_enc) <= TOL
    assert _max_diff(low.prior_enc, ref.prior_enc) <= TOL
    for p_low, p_ref in zip(low.priors, ref.priors):
        assert _max_diff(p_low, p_ref) <= TOL


def test_det_fused_and_short_pyramid():
    """fuse() (one gamma/beta conv) and a 1-level prior learner (the finer
    generator levels get nearest-up-sampled priors)."""
    gen = _build(learner_kw=dict(num_scales=1, head_channels=[3]))
    gen.fuse()
    masked, mask = _inputs(1, 16, 16, seed=3)
    with torch.no_grad():
        ref = gen.forward_test(masked, mask)
    low = gen.forward_test(masked, mask, low_memory=True, tile_pixels=20)
    assert _max_diff(low, ref) <= TOL


def test_prob_matches_reference():
    """Probabilistic model, K=2 seeded samples, batch 2."""
    gen = _build(prob=True, gen_kw=dict(cap_spade_hidden=True))
    masked, mask = _inputs(2, 32, 32, seed=5)
    with torch.no_grad():
        ref = gen.forward_test(masked, mask, num_samples=2, seed=7)
    low = gen.forward_test(
        masked, mask, num_samples=2, seed=7, low_memory=True, tile_pixels=50)
    assert low.shape == ref.shape == (2, 2, 3, 32, 32)
    assert _max_diff(low, ref) <= TOL


def test_concat_fusion_and_bad_tile_raise():
    gen = _build(gen_kw=dict(fusion='concat'))
    masked, mask = _inputs(1, 16, 16)
    with pytest.raises(ValueError, match="fusion='spade' only"):
        gen.forward_test(masked, mask, low_memory=True)
    with pytest.raises(ValueError, match='tile_pixels'):
        _build().forward_test(masked, mask, low_memory=True, tile_pixels=0)


@pytest.mark.parametrize(
    'kw',
    [
        dict(kernel_size=7, padding=3, padding_mode='reflect'),
        dict(kernel_size=3, padding=2, dilation=2, padding_mode='reflect'),
        dict(kernel_size=4, stride=2, padding=1),
        dict(kernel_size=3, padding=1),
        dict(kernel_size=1),
    ])
def test_conv_rows_exact(kw):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, **kw)
    x = torch.randn(2, 3, 10, 12)
    with torch.no_grad():
        ref = conv(x)
        for tile in (1, 25, 1000):
            out = materialize(conv_rows(tensor_rows(x), conv), tile)
            assert _max_diff(out, ref) <= 1e-6


def test_resampling_rows_exact():
    x = torch.randn(1, 8, 5, 6)
    up = materialize(up2_rows(tensor_rows(x)), 7)
    assert torch.equal(
        up, torch.nn.functional.interpolate(x, scale_factor=2))
    ps = materialize(pixel_shuffle_rows(tensor_rows(x)), 13)
    assert torch.equal(ps, torch.nn.functional.pixel_shuffle(x, 2))


def test_region_norm_tiled_is_bitwise():
    """Channel-chunked statistics + the kernel's rounding: the tiled
    RegionNorm reproduces the whole-image one bit for bit (here a nearly
    constant hole region, where float32 rounding matters most)."""
    torch.manual_seed(0)
    norm = SPNRegionNorm(6)
    with torch.no_grad():
        for p in norm.parameters():
            p.normal_(0, 0.3)
    x = torch.randn(2, 6, 10, 14) * 0.01 + 1.5
    mask = torch.zeros(2, 1, 20, 28)
    mask[0, :, 3:15, 5:20] = 1
    mask[1, :, 11:, :9] = 1
    x[0, :, 2:7, 3:10] = 0.75  # constant inside the (resized) hole
    with torch.no_grad():
        ref = norm(x, mask)
        for tile in (1, 30, 1000):
            assert torch.equal(norm.forward_tiled_(x.clone(), mask, tile),
                               ref)


@pytest.mark.parametrize('group', [1, 2, 5])
def test_instance_norm_stats_and_normalize_rows_bitwise(group):
    """Batch 2: the channel chunks are strided views of the map."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 9, 11) * 0.02 + 3.0
    mean, invstd = instance_norm_stats(lambda a, b: x[:, a:b], 5, group)
    out = materialize(normalize_rows(tensor_rows(x), mean, invstd), 20)
    assert torch.equal(out, torch.nn.functional.instance_norm(x))
