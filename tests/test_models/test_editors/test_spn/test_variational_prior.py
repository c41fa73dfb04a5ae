import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal

from spn_mm.models.editors.spn import VariationalPrior
from spn_mm.registry import MODELS

TINY = dict(in_channels=8, mid_channels=12, latent_channels=4, out_channels=6)


def test_full_width_param_count():
    with torch.device('meta'):
        var = MODELS.build(dict(type='VariationalPrior'))
    numel = {
        n: sum(p.numel() for p in m.parameters())
        for n, m in var.named_children()
    }
    assert numel == dict(
        encoder=10_487_296,
        conv_mu=65_664,
        conv_sigma=65_664,
        decoder=5_901_312)
    assert sum(numel.values()) == 16_519_936
    assert var.num_samples == 2


def test_distribution_and_decode_shapes():
    torch.manual_seed(0)
    var = VariationalPrior(**TINY)
    feat = torch.randn(3, 8, 16, 16)
    dist = var.distribution(feat)
    assert isinstance(dist, Normal)
    assert dist.loc.shape == (3, 4, 2, 2)
    h = var.encoder(feat)
    assert torch.allclose(dist.scale, F.softplus(var.conv_sigma(h)))
    assert (dist.scale > 0).all()
    out, dist2 = var(feat, num_samples=2)
    assert out.shape == (6, 6, 16, 16)
    assert dist2.loc.shape == (3, 4, 2, 2)


def test_seeded_sampling_per_image():
    torch.manual_seed(0)
    var = VariationalPrior(**TINY)
    dist = var.distribution(torch.randn(3, 8, 16, 16))
    z = var.sample(dist, num_samples=2, seeds=[10, 11, 12])
    assert z.shape == (6, 4, 2, 2)
    # exact reparameterisation with a per-image generator
    for i, seed in enumerate([10, 11, 12]):
        gen = torch.Generator().manual_seed(seed)
        eps = torch.randn((2, 4, 2, 2), generator=gen)
        for k in range(2):
            expected = dist.loc[i] + eps[k] * dist.scale[i]
            assert torch.equal(z[k * 3 + i], expected)  # [s1 all; s2 all]
    # image 1 alone with its seed gives the same samples
    single = Normal(dist.loc[1:2], dist.scale[1:2])
    z1 = var.sample(single, num_samples=2, seeds=[11])
    assert torch.equal(z1[0], z[1]) and torch.equal(z1[1], z[4])
    # sample k does not depend on how many samples are drawn
    assert torch.equal(var.sample(dist, 1, seeds=[10, 11, 12]), z[:3])
    with pytest.raises(ValueError, match='one seed per image'):
        var.sample(dist, 1, seeds=[1, 2])


def test_mean_and_random_modes():
    torch.manual_seed(0)
    var = VariationalPrior(**TINY)
    dist = var.distribution(torch.randn(2, 8, 16, 16))
    z = var.sample(dist, num_samples=3, mode='mean')
    assert torch.equal(z, dist.loc.repeat(3, 1, 1, 1))
    a = var.sample(dist, 2)
    b = var.sample(dist, 2)
    assert a.shape == (4, 4, 2, 2) and not torch.equal(a, b)
    with pytest.raises(ValueError, match='mode'):
        var.sample(dist, 1, mode='median')


def test_rsample_is_differentiable():
    torch.manual_seed(0)
    var = VariationalPrior(**TINY)
    out, dist = var(torch.randn(2, 8, 16, 16), num_samples=2)
    (out.mean() + dist.scale.mean()).backward()
    assert all(p.grad is not None for p in var.parameters())
    assert var.conv_sigma.weight.grad.abs().sum() > 0


def test_bad_input():
    var = VariationalPrior(**TINY)
    with pytest.raises(ValueError, match='multiples of 8'):
        var.distribution(torch.randn(1, 8, 12, 12))
    with pytest.raises(ValueError, match=r'\(B, 8, h, w\)'):
        var.distribution(torch.randn(1, 7, 16, 16))
