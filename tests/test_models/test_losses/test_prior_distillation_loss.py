import pytest
import torch

from spn_mm.models.losses import PriorDistillationLoss
from spn_mm.registry import MODELS


def _pyramid(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(batch, 4, 16, 16), (batch, 4, 8, 8), (batch, 6, 4, 4)]
    preds = [torch.randn(s, generator=g) for s in shapes]
    targets = [torch.randn(s, generator=g) for s in shapes]
    mask = (torch.rand(batch, 1, 16, 16, generator=g) > 0.5).float()
    return preds, targets, mask


def _reference(preds, targets, mask, alpha, weights):
    # nearest down-sampling by 2**l == taking every 2**l-th pixel
    total = 0.
    for lvl, (p, t, w) in enumerate(zip(preds, targets, weights)):
        m = mask[:, :, ::2**lvl, ::2**lvl]
        per_elem = (t - p).abs() * (1 + alpha * m)
        total += w * per_elem.sum().item() / per_elem.numel()
    return total


def test_value_matches_hand_written_reference():
    preds, targets, mask = _pyramid()
    loss = PriorDistillationLoss()(preds, targets, mask)
    assert loss.dim() == 0
    ref = _reference(preds, targets, mask, 3., [1., 1., 1.])
    assert loss.item() == pytest.approx(ref, rel=1e-5)


def test_weights_alpha_and_scale_weights():
    preds, targets, mask = _pyramid()
    loss = PriorDistillationLoss(
        loss_weight=0.5, alpha=1.5, scale_weights=[1., 2.,
                                                   0.25])(preds, targets, mask)
    ref = 0.5 * _reference(preds, targets, mask, 1.5, [1., 2., 0.25])
    assert loss.item() == pytest.approx(ref, rel=1e-5)
    # hole pixels weigh 1 + alpha, valid pixels 1
    ones = [torch.ones_like(p) for p in preds]
    zeros = [torch.zeros_like(p) for p in preds]
    full_hole = torch.ones_like(mask)
    assert PriorDistillationLoss(alpha=3.)(
        ones[:1], zeros[:1], full_hole).item() == pytest.approx(4.)
    assert PriorDistillationLoss(alpha=3.)(
        ones[:1], zeros[:1], 1 - full_hole).item() == pytest.approx(1.)


def test_k_sample_repeat():
    preds, targets, mask = _pyramid(batch=2)
    preds_k = [torch.cat([p, p.flip(0) * 0.5]) for p in preds]  # K=2
    loss_fn = PriorDistillationLoss()
    loss = loss_fn(preds_k, targets, mask)
    explicit = loss_fn(preds_k, [torch.cat([t, t]) for t in targets],
                       torch.cat([mask, mask]))
    assert torch.allclose(loss, explicit)
    # order is [all inputs s1; all inputs s2], not interleaved
    interleaved = loss_fn(preds_k,
                          [t.repeat_interleave(2, 0) for t in targets],
                          mask.repeat_interleave(2, 0))
    assert not torch.allclose(loss, interleaved)


def test_gradients_reach_preds_not_targets():
    preds, targets, mask = _pyramid()
    preds = [p.requires_grad_() for p in preds]
    targets = [t.requires_grad_() for t in targets]
    PriorDistillationLoss()(preds, targets, mask).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in preds)
    assert all(t.grad is None for t in targets)


def test_errors():
    preds, targets, mask = _pyramid()
    loss_fn = PriorDistillationLoss()
    with pytest.raises(ValueError, match='2 targets'):
        loss_fn(preds, targets[:2], mask)
    with pytest.raises(ValueError, match='scale_weights'):
        PriorDistillationLoss(scale_weights=[1., 1.])(preds, targets, mask)
    with pytest.raises(ValueError, match='level 1'):
        loss_fn(preds, [targets[0], targets[2], targets[2]], mask)
    with pytest.raises(ValueError, match='mask'):
        loss_fn(preds, targets, mask[:, 0])
    with pytest.raises(ValueError, match='batch'):
        loss_fn([torch.cat([p, p[:1]]) for p in preds], targets, mask)
    with pytest.raises(ValueError, match='empty'):
        loss_fn([], [], mask)
    with pytest.raises(TypeError):
        loss_fn(preds[0], targets[0], mask)


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='PriorDistillationLoss', loss_weight=2., alpha=3.))
    assert isinstance(loss, PriorDistillationLoss)
    assert loss.loss_weight == 2. and loss.alpha == 3.
    assert loss.state_dict() == {}
