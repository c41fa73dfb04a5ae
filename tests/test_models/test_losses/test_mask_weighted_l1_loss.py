import numpy as np
import pytest
import torch

from spn_mm.models.losses import MaskWeightedL1Loss
from spn_mm.registry import MODELS


def _data(batch=2):
    g = torch.Generator().manual_seed(1)
    pred = torch.randn(batch, 3, 8, 8, generator=g)
    target = torch.randn(batch, 3, 8, 8, generator=g)
    mask = (torch.rand(batch, 1, 8, 8, generator=g) > 0.6).float()
    return pred, target, mask


@pytest.mark.parametrize('hole_weight', [2., 4.])
def test_value_matches_numpy_reference(hole_weight):
    pred, target, mask = _data()
    loss = MaskWeightedL1Loss(
        loss_weight=10., hole_weight=hole_weight)(pred, target, mask)
    p, t, m = pred.numpy(), target.numpy(), mask.numpy()
    ref = 10. * np.mean(np.abs(p - t) * (1 + hole_weight * m))
    assert loss.item() == pytest.approx(float(ref), rel=1e-5)


def test_defaults_are_official():
    loss = MODELS.build(dict(type='MaskWeightedL1Loss'))
    assert loss.loss_weight == 10. and loss.hole_weight == 2.
    one = torch.ones(1, 1, 2, 2)
    # hole weight 1 + 2 = 3, valid 1 (times loss_weight 10)
    assert loss(one, 0 * one, one).item() == pytest.approx(30.)
    assert loss(one, 0 * one, 0 * one).item() == pytest.approx(10.)


def test_k_sample_repeat_and_gradients():
    pred, target, mask = _data()
    pred_k = torch.cat([pred, pred * 2]).requires_grad_()
    target = target.clone().requires_grad_()
    loss_fn = MaskWeightedL1Loss()
    loss = loss_fn(pred_k, target, mask)
    ref = loss_fn(pred_k, torch.cat([target, target]), torch.cat([mask, mask]))
    assert torch.allclose(loss, ref)
    loss.backward()
    assert pred_k.grad is not None and pred_k.grad.abs().sum() > 0
    assert target.grad is None


def test_errors():
    pred, target, mask = _data()
    loss_fn = MaskWeightedL1Loss()
    with pytest.raises(ValueError, match='shape'):
        loss_fn(pred, target[:, :2], mask)
    with pytest.raises(ValueError, match='mask'):
        loss_fn(pred, target, mask.repeat(1, 3, 1, 1))
    with pytest.raises(ValueError, match='batch'):
        loss_fn(pred[:1], target, mask)
