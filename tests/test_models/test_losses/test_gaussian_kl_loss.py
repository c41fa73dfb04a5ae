import pytest
import torch
from torch.distributions import Normal, kl_divergence

from spn_mm.models.losses import GaussianKLLoss
from spn_mm.registry import MODELS


def _q():
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(2, 8, 4, 4, generator=g)
    sigma = torch.nn.functional.softplus(torch.randn(2, 8, 4, 4, generator=g))
    return mu, sigma


def test_standard_direction_matches_torch():
    mu, sigma = _q()
    q, p = Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    loss = GaussianKLLoss(loss_weight=0.05)(q)
    assert torch.allclose(loss, 0.05 * kl_divergence(q, p).mean(), rtol=1e-5)


def test_official_direction_matches_torch_and_formula():
    mu, sigma = _q()
    q, p = Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    loss = GaussianKLLoss(loss_weight=1., direction='official')(q)
    assert torch.allclose(loss, kl_divergence(p, q).mean(), rtol=1e-5)
    s2 = sigma**2
    formula = 0.5 * (1 / s2 + mu**2 / s2 - 1 + torch.log(s2))
    assert torch.allclose(loss, formula.mean(), rtol=1e-5)


def test_tuple_and_separate_args():
    mu, sigma = _q()
    loss_fn = MODELS.build(dict(type='GaussianKLLoss'))
    assert loss_fn.direction == 'standard' and loss_fn.loss_weight == 0.05
    a = loss_fn(Normal(mu, sigma))
    assert torch.allclose(a, loss_fn((mu, sigma)))
    assert torch.allclose(a, loss_fn(mu, sigma))
    # zero at the prior
    assert loss_fn(torch.zeros(3), torch.ones(3)).item() == pytest.approx(0.)


def test_gradients_and_errors():
    mu, sigma = _q()
    mu.requires_grad_()
    raw = torch.randn_like(sigma, requires_grad=True)
    GaussianKLLoss()(Normal(mu, torch.nn.functional.softplus(raw))).backward()
    assert mu.grad.abs().sum() > 0 and raw.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='direction'):
        GaussianKLLoss(direction='reverse')
    with pytest.raises(TypeError):
        GaussianKLLoss()(mu)
    with pytest.raises(ValueError):
        GaussianKLLoss()(Normal(mu, sigma), sigma)
