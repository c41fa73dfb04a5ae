import pytest
import torch
import torch.nn as nn

from spn_mm.models.archs import SPNPatchDiscriminator, SPNProbDiscriminator
from spn_mm.registry import MODELS


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_match_official():
    assert _count(MODELS.build(dict(type='SPNPatchDiscriminator'))) == \
        2_763_776
    assert _count(MODELS.build(dict(type='SPNProbDiscriminator'))) == \
        2_763_841
    # 4-channel input (with mask): one more input channel of 4x4 kernels
    assert _count(SPNPatchDiscriminator(in_channels=4)) == \
        2_763_776 + 64 * 16
    assert _count(SPNProbDiscriminator(in_channels=4)) == \
        2_763_841 + 64 * 16


def test_patch_disc_structure():
    disc = SPNPatchDiscriminator()
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5
    for conv in convs:
        assert conv.bias is None and conv.kernel_size == (4, 4)
        assert conv.padding == (1, 1)
        assert hasattr(conv, 'weight_orig')  # spectral norm
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert sum(isinstance(m, nn.LeakyReLU) for m in disc.modules()) == 4
    assert 'conv1.0.weight_orig' in disc.state_dict()


def test_prob_disc_structure():
    disc = SPNProbDiscriminator()
    assert disc.conv1[0].bias is not None
    assert not hasattr(disc.conv1[0], 'weight_orig')
    assert disc.conv5[0].bias is not None
    assert not hasattr(disc.conv5[0], 'weight_orig')
    for i in (2, 3, 4):
        block = getattr(disc, f'conv{i}')
        assert hasattr(block[0], 'weight_orig') and block[0].bias is None
        assert isinstance(block[1], nn.InstanceNorm2d)
        assert not block[1].affine
        assert isinstance(block[2], nn.LeakyReLU)
    assert [getattr(disc, f'conv{i}')[0].stride[0]
            for i in range(1, 6)] == [2, 2, 2, 1, 1]


@pytest.mark.parametrize('in_channels', [3, 4])
def test_forward_shapes_64px(in_channels):
    x = torch.randn(2, in_channels, 64, 64)
    # 64 -> 32 -> 16 -> 8 -> 7 -> 6 (4x4 convs, pad 1)
    logits, feats = SPNPatchDiscriminator(in_channels=in_channels)(x)
    assert logits.shape == (2, 1, 6, 6)
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 32, 32), (128, 16, 16),
                                                   (256, 8, 8), (512, 7, 7),
                                                   (1, 6, 6)]
    assert torch.equal(feats[-1], logits)
    logits, feats = SPNProbDiscriminator(in_channels=in_channels)(x)
    assert logits.shape == (2, 1, 6, 6)
    assert [tuple(f.shape[1:]) for f in feats] == [(128, 16, 16), (256, 8, 8),
                                                   (512, 7, 7)]


def test_output_size_256():
    for cls in (SPNPatchDiscriminator, SPNProbDiscriminator):
        disc = cls(base_channels=4)
        disc.eval()
        logits, _ = disc(torch.randn(1, 3, 256, 256))
        assert logits.shape == (1, 1, 30, 30)


def test_init_weights_and_gradients():
    for cls in (SPNPatchDiscriminator, SPNProbDiscriminator):
        disc = MODELS.build(dict(type=cls.__name__, base_channels=8))
        disc.init_weights()  # as the mmengine Runner does; must not crash
        x = torch.randn(2, 3, 32, 32, requires_grad=True)
        logits, feats = disc(x)
        (logits.mean() + sum(f.mean() for f in feats)).backward()
        assert x.grad is not None
        assert all(p.grad is not None for p in disc.parameters())


def test_bad_input_channels():
    with pytest.raises(ValueError, match='in_channels'):
        SPNPatchDiscriminator(in_channels=4)(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='in_channels'):
        SPNProbDiscriminator()(torch.randn(1, 4, 32, 32))
