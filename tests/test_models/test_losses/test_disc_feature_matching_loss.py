import pytest
import torch

from spn_mm.models.losses import DiscFeatureMatchingLoss
from spn_mm.registry import MODELS


def _feats(batch, seed):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, 8, 8, 8, generator=g),
        torch.randn(batch, 16, 4, 4, generator=g),
        torch.randn(batch, 32, 3, 3, generator=g)
    ]


def test_value_and_defaults():
    fake, real = _feats(2, 0), _feats(2, 1)
    loss_fn = MODELS.build(dict(type='DiscFeatureMatchingLoss'))
    assert loss_fn.loss_weight == 10.
    ref = 10. * sum(
        (f - r).abs().sum().item() / f.numel() for f, r in zip(fake, real)) / 3
    assert loss_fn(fake, real).item() == pytest.approx(ref, rel=1e-5)


def test_real_repeated_for_k_samples_and_detached():
    fake, real = _feats(4, 0), _feats(2, 1)
    fake = [f.requires_grad_() for f in fake]
    real = [r.requires_grad_() for r in real]
    loss_fn = DiscFeatureMatchingLoss(loss_weight=1.)
    loss = loss_fn(fake, real)
    assert torch.allclose(loss, loss_fn(fake,
                                        [torch.cat([r, r]) for r in real]))
    loss.backward()
    assert all(f.grad is not None for f in fake)
    assert all(r.grad is None for r in real)


def test_errors():
    fake, real = _feats(2, 0), _feats(2, 1)
    loss_fn = DiscFeatureMatchingLoss()
    with pytest.raises(ValueError, match='must match'):
        loss_fn(fake, real[:2])
    with pytest.raises(ValueError, match='layer 1'):
        loss_fn(fake, [real[0], real[0], real[2]])
    with pytest.raises(ValueError, match='batch'):
        loss_fn(_feats(3, 0), real)
