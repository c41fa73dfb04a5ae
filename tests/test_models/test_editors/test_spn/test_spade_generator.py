import pytest
import torch
import torch.nn.functional as F

from spn_mm.models.editors.spn import SPADEGenerator
from spn_mm.models.editors.spn.spn_blocks import (SPNShortcutResBlock,
                                                  SPNSPADEResBlock)
from spn_mm.registry import MODELS

TINY = dict(
    base_channels=4,
    prior_channels=(3, 5, 6),
    num_middle_blocks=2,
    spade_hidden_channels=4)


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _inputs(b=2, size=32):
    img = torch.rand(b, 3, size, size)
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, size // 4:size // 2, size // 4:3 * size // 4] = 1
    img = img * (1 - mask) + mask
    priors = [
        torch.randn(b, 3, size, size),
        torch.randn(b, 5, size // 2, size // 2),
        torch.randn(b, 6, size // 4, size // 4)
    ]
    return img, mask, priors


@pytest.mark.parametrize('num_blocks', [4, 8, 12])
def test_full_width_param_counts(num_blocks):
    with torch.device('meta'):
        det = MODELS.build(
            dict(type='SPADEGenerator', num_middle_blocks=num_blocks))
    assert len(det.middle_blocks) == num_blocks
    assert _numel(det) == 28_083_971 - (8 - num_blocks) * 2_950_912
    if num_blocks == 8:
        assert _numel(det.middle_blocks) == 23_607_296
        assert _numel(det.decoder_blocks) + _numel(det.out_conv) == \
            3_809_667
        with torch.device('meta'):
            prob = SPADEGenerator(cap_spade_hidden=True)
        assert _numel(prob) == 27_604_547
        assert prob.decoder_blocks[1].norm1.hidden_channels == 64
        assert prob.decoder_blocks[0].norm1.hidden_channels == 128


def test_forward_shapes_and_range():
    torch.manual_seed(0)
    gen = SPADEGenerator(**TINY)
    img, mask, priors = _inputs()
    feat = gen.encode(img, mask)
    assert feat.shape == (2, 16, 8, 8)
    dec = gen.decode(feat, priors)
    assert dec['feat_dec'].shape == (2, 16, 8, 8)
    out = dec['out']
    assert out.shape == (2, 3, 32, 32)
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(gen(img, mask, priors), out)
    assert isinstance(gen.middle_blocks[0], SPNSPADEResBlock)
    assert gen.middle_blocks[0].conv1.dilation == (2, 2)


def test_out_layer_is_tanh_shifted():
    torch.manual_seed(0)
    gen = SPADEGenerator(**TINY)
    with torch.no_grad():
        gen.out_conv.weight.zero_()
        gen.out_conv.bias.copy_(torch.tensor([0.0, 1.0, -2.0]))
    img, mask, priors = _inputs(1)
    out = gen(img, mask, priors)
    expected = (torch.tanh(torch.tensor([0.0, 1.0, -2.0])) + 1) / 2
    assert torch.allclose(out[0, :, 0, 0], expected)


@pytest.mark.parametrize('num_priors', [1, 2])
def test_missing_fine_priors_use_coarser_upsampled(num_priors):
    torch.manual_seed(0)
    chans = {1: (6, 6, 6), 2: (5, 5, 6)}[num_priors]
    gen = SPADEGenerator(**dict(TINY, prior_channels=chans))
    img, mask, _ = _inputs()
    coarse = torch.randn(2, 6, 8, 8)
    mid = torch.randn(2, 5, 16, 16)
    given = [coarse] if num_priors == 1 else [mid, coarse]
    if num_priors == 1:
        full = [
            F.interpolate(coarse, scale_factor=4, mode='nearest'),
            F.interpolate(coarse, scale_factor=2, mode='nearest'), coarse
        ]
    else:
        full = [
            F.interpolate(mid, scale_factor=2, mode='nearest'), mid, coarse
        ]
    assert torch.equal(gen(img, mask, given), gen(img, mask, full))


def test_concat_fusion():
    torch.manual_seed(0)
    gen = SPADEGenerator(**dict(TINY, fusion='concat'))
    assert isinstance(gen.middle_blocks[0], SPNShortcutResBlock)
    assert gen.middle_blocks[0].conv1.in_channels == 16 + 6
    assert gen.decoder_blocks[0].conv1.in_channels == 16 + 5
    assert gen.decoder_blocks[1].conv1.in_channels == 8 + 3
    img, mask, priors = _inputs()
    priors = [p.requires_grad_() for p in priors]
    out = gen(img, mask, priors)
    assert out.shape == (2, 3, 32, 32)
    out.mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in priors)
    assert all(p.grad is not None for p in gen.parameters())


def test_mask_enters_through_region_norm():
    torch.manual_seed(0)
    gen = SPADEGenerator(**TINY)
    with torch.no_grad():  # make RN hole/valid affine differ
        for name, p in gen.named_parameters():
            if name.startswith('enc_norm'):
                p.copy_(torch.randn_like(p))
    img, mask, priors = _inputs(1)
    other = torch.zeros_like(mask)
    assert not torch.equal(gen.encode(img, mask), gen.encode(img, other))


def test_bad_arguments():
    with pytest.raises(ValueError, match='fusion'):
        SPADEGenerator(fusion='add')
    with pytest.raises(ValueError, match='prior_channels'):
        SPADEGenerator(prior_channels=(64, 128))
    gen = SPADEGenerator(**TINY)
    img, mask, priors = _inputs()
    with pytest.raises(ValueError, match='level 1'):
        gen(img, mask, [priors[0], torch.randn(2, 4, 16, 16), priors[2]])
    with pytest.raises(ValueError, match='multiples of 4'):
        gen.encode(torch.rand(1, 3, 30, 30), torch.zeros(1, 1, 30, 30))
    with pytest.raises(ValueError, match='coarsest prior'):
        gen(img, mask, [priors[0], priors[1], torch.randn(2, 6, 4, 4)])
