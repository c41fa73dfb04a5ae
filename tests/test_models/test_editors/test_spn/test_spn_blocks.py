import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F

from spn_mm.models.editors.spn import (SPNRegionNorm, SPNResBlock,
                                       SPNResidualDenseBlock,
                                       SPNShortcutResBlock, SPNSPADE,
                                       SPNSPADEResBlock,
                                       SPNSPADEShortcutResBlock)
from spn_mm.registry import MODELS
from utils import REPO_ROOT

KEYS_DIR = osp.join(REPO_ROOT, 'tests', 'data', 'official_keys')


def _official_numel(variant: str, prefix: str) -> int:
    """Number of official parameters under ``prefix`` (from the key TSV)."""
    path = osp.join(KEYS_DIR, f'spn_{variant}_generator_keys.tsv')
    if not osp.isfile(path):
        raise FileNotFoundError(f'official key table missing: {path}')
    total = 0
    with open(path) as f:
        for line in f:
            key, shape = line.rstrip('\n').split('\t')
            if key.startswith(prefix):
                dims = [int(d) for d in re.findall(r'\d+', shape)]
                n = 1
                for d in dims:
                    n *= d
                total += n
    assert total > 0, prefix
    return total


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _reference_region_norm(x,
                           mask,
                           hole_gamma,
                           hole_beta,
                           valid_gamma,
                           valid_beta,
                           eps=1e-5):
    """Per-sample, per-channel loop version of the official RN-B."""
    b, c, h, w = x.shape
    m = F.interpolate(mask, size=(h, w), mode='nearest')
    out = torch.zeros_like(x)
    for i in range(b):
        mi = m[i, 0]
        for ch in range(c):
            xc = x[i, ch]
            rn = torch.zeros_like(xc)
            for region in (mi, 1 - mi):
                count = float(region.sum())
                count = 1.0 if count == 0 else count
                mean = float((xc * region).sum()) / count
                filled = torch.where(region > 0.5, xc,
                                     torch.full_like(xc, mean))
                mu = filled.mean()
                var = ((filled - mu)**2).mean()
                normed = (filled - mu) / torch.sqrt(var + eps)
                rn = rn + normed * (count / (h * w))**0.5
            out[i, ch] = (
                rn * mi * (1 + hole_gamma[ch]) + hole_beta[ch] + rn *
                (1 - mi) * (1 + valid_gamma[ch]) + valid_beta[ch])
    return out


def test_blocks_registered():
    for cls in (SPNRegionNorm, SPNSPADE, SPNSPADEResBlock,
                SPNSPADEShortcutResBlock, SPNResBlock, SPNShortcutResBlock,
                SPNResidualDenseBlock):
        assert MODELS.get(cls.__name__) is cls


def test_region_norm_init_and_params():
    rn = SPNRegionNorm(8)
    names = {n: tuple(p.shape) for n, p in rn.named_parameters()}
    assert names == {
        'hole_gamma': (8, ),
        'hole_beta': (8, ),
        'valid_gamma': (8, ),
        'valid_beta': (8, )
    }
    assert all((p == 0).all() for p in rn.parameters())


@pytest.mark.parametrize('mask_kind', ['random', 'zeros', 'ones', 'coarse'])
def test_region_norm_matches_formula(mask_kind):
    torch.manual_seed(0)
    rn = SPNRegionNorm(3)
    with torch.no_grad():
        for p in rn.parameters():
            p.copy_(torch.randn_like(p))
    x = torch.randn(2, 3, 8, 8) * 3 + 1
    if mask_kind == 'random':
        mask = (torch.rand(2, 1, 8, 8) > 0.6).float()
    elif mask_kind == 'zeros':
        mask = torch.zeros(2, 1, 8, 8)
    elif mask_kind == 'ones':
        mask = torch.ones(2, 1, 8, 8)
    else:  # mask at 2x the feature size: nearest-resized
        mask = (torch.rand(2, 1, 16, 16) > 0.5).float()
        mask[1] = 0  # one sample with an empty hole region
    out = rn(x, mask)
    ref = _reference_region_norm(x, mask, rn.hole_gamma, rn.hole_beta,
                                 rn.valid_gamma, rn.valid_beta)
    assert out.shape == x.shape
    assert torch.allclose(out, ref, atol=1e-5), (out - ref).abs().max()


def test_region_norm_betas_unmasked():
    # zero gammas, nonzero betas: the bias beta_hole + beta_valid is added
    # everywhere (official quirk), also where the mask is empty.
    rn = SPNRegionNorm(2)
    with torch.no_grad():
        rn.hole_beta.fill_(0.5)
        rn.valid_beta.fill_(0.25)
    x = torch.zeros(1, 2, 4, 4)
    out = rn(x, torch.zeros(1, 1, 4, 4))
    assert torch.allclose(out, torch.full_like(out, 0.75))


def test_region_norm_bad_input():
    rn = SPNRegionNorm(4)
    with pytest.raises(ValueError, match='mask'):
        rn(torch.randn(1, 4, 8, 8), torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match=r'\(B, 4, H, W\)'):
        rn(torch.randn(1, 3, 8, 8), torch.zeros(1, 1, 8, 8))


def test_spade_hidden_width_and_formula():
    assert SPNSPADE(16, 64).hidden_channels == 128
    assert SPNSPADE(16, 64, cap_hidden=True).hidden_channels == 64
    assert SPNSPADE(16, 256, cap_hidden=True).hidden_channels == 128
    spade = SPNSPADE(4, 3, hidden_channels=5)
    with torch.no_grad():
        spade.conv_gamma.weight.zero_()
        spade.conv_beta.weight.zero_()
        spade.conv_gamma.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
        spade.conv_beta.bias.copy_(torch.tensor([1.0, 0.0, -2.0, 3.0]))
    x = torch.randn(2, 4, 6, 6) * 2 + 3
    prior = torch.randn(2, 3, 6, 6)
    mean = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), unbiased=False, keepdim=True)
    normed = (x - mean) / torch.sqrt(var + 1e-5)
    ref = normed * (1 + spade.conv_gamma.bias.view(1, -1, 1, 1)) + \
        spade.conv_beta.bias.view(1, -1, 1, 1)
    assert torch.allclose(spade(x, prior), ref, atol=1e-5)


def test_spade_blocks_match_official_counts():
    # middle.j, decoder.1 / decoder.3 of the official generators
    assert _numel(SPNSPADEResBlock(256, 256)) == _official_numel(
        'det', 'middle.0.')
    assert _numel(SPNSPADEShortcutResBlock(256, 128, 128)) == \
        _official_numel('det', 'decoder.1.')
    assert _numel(SPNSPADEShortcutResBlock(128, 64, 64)) == \
        _official_numel('det', 'decoder.3.')
    assert _numel(SPNSPADEShortcutResBlock(
        128, 64, 64,
        cap_hidden=True)) == _official_numel('prob', 'decoder.3.')


def test_plain_blocks_match_official_counts():
    assert _numel(SPNResBlock(256)) == _official_numel('det',
                                                       'feature_recon.0.')
    assert _numel(SPNShortcutResBlock(512, 256)) == _official_numel(
        'prob', 'feature_recon.0.')
    assert _numel(SPNShortcutResBlock(384, 128)) == _official_numel(
        'det', 'feature_recon_decoder.3.')
    assert _numel(SPNResidualDenseBlock(256, 32, 6)) == _official_numel(
        'det', 'rdbs.0.')


def test_spade_res_block_identity_and_shapes():
    torch.manual_seed(0)
    blk = SPNSPADEResBlock(8, 4, dilation=2, hidden_channels=6)
    x, prior = torch.randn(2, 8, 10, 10), torch.randn(2, 4, 10, 10)
    out = blk(x, prior)
    assert out.shape == x.shape
    assert blk.conv1.dilation == (2, 2) and blk.conv1.padding == (2, 2)
    assert blk.conv1.padding_mode == 'reflect'
    with torch.no_grad():
        blk.conv2.weight.zero_()
        blk.conv2.bias.zero_()
    assert torch.equal(blk(x, prior), x)  # identity shortcut


def test_spade_shortcut_block_shapes_and_grad():
    torch.manual_seed(0)
    blk = SPNSPADEShortcutResBlock(8, 4, 3, hidden_channels=5)
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    prior = torch.randn(2, 3, 6, 6)
    out = blk(x, prior)
    assert out.shape == (2, 4, 6, 6)
    assert blk.conv1.out_channels == 4  # mid = min(in, out)
    out.sum().backward()
    assert all(p.grad is not None for p in blk.parameters())
    with pytest.raises(ValueError, match='prior'):
        blk(x, torch.randn(2, 5, 6, 6))


def test_plain_blocks_forward():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 8, 8)
    blk = SPNResBlock(6, dilation=2)
    assert blk(x).shape == x.shape
    with torch.no_grad():
        blk.conv2.weight.zero_()
        blk.conv2.bias.zero_()
    assert torch.equal(blk(x), x)

    sblk = SPNShortcutResBlock(6, 4)
    out = sblk(x)
    assert out.shape == (2, 4, 8, 8)
    ref = sblk.conv2(F.relu(sblk.conv1(x))) + sblk.shortcut(x)
    assert torch.allclose(out, ref)
    # the reflection padding equals an explicit F.pad(reflect) + valid conv
    manual = F.conv2d(
        F.pad(x, [1, 1, 1, 1], mode='reflect'), sblk.shortcut.weight,
        sblk.shortcut.bias)
    assert torch.allclose(sblk.shortcut(x), manual, atol=1e-6)


def test_rdb_dense_connectivity_and_residual():
    torch.manual_seed(0)
    rdb = SPNResidualDenseBlock(8, 4, 3)
    assert [c.in_channels for c in rdb.dense_layers] == [8, 12, 16]
    assert rdb.local_fusion.in_channels == 20
    x = torch.randn(2, 8, 6, 6)
    assert rdb(x).shape == x.shape
    with torch.no_grad():
        rdb.local_fusion.weight.zero_()
        rdb.local_fusion.bias.zero_()
    assert torch.equal(rdb(x), x)  # local residual
