"""PriorDistillation: the teacher + prior loss module of the inpaintors."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmagic.structures import DataSample
from mmengine.config import Config
from utils import REPO_ROOT

from spn_mm.models.editors.spn import PriorDistillation
from spn_mm.models.editors.spn.prior_distillation import \
    build_prior_distillation
from spn_mm.registry import MODELS

TEACHER = dict(type='EdgeTeacher', num_levels=3)
LOSS = dict(type='PriorDistillationLoss', loss_weight=0.5, alpha=3.0)


def test_targets_loss_and_switch_against_references():
    torch.manual_seed(0)
    distillation = MODELS.build(
        dict(type='PriorDistillation', teacher=TEACHER, loss=LOSS))
    teacher = MODELS.build(TEACHER)  # the same (weight-free) teacher
    gt = torch.rand(2, 3, 32, 32) * 2 - 1
    targets = distillation.targets(gt)
    expected = teacher(gt)
    assert len(targets) == len(expected) == 3
    for t, e in zip(targets, expected):
        assert torch.equal(t, e) and not t.requires_grad
    preds = [torch.randn_like(t, requires_grad=True) for t in targets]
    mask = (torch.rand(2, 1, 32, 32) > 0.5).float()
    ref = 0.
    for lvl, (p, t) in enumerate(zip(preds, targets)):
        m = mask[:, :, ::2**lvl, ::2**lvl]  # nearest down-sampling
        ref += ((t - p).abs() * (1 + 3. * m)).mean().item()
    loss = distillation(preds, targets, mask)
    assert loss.item() == pytest.approx(0.5 * ref, rel=1e-5)
    # the batch's packed teacher_img (0-255) is the teacher's own view
    photo = torch.rand(2, 3, 64, 64) * 255
    samples = DataSample(teacher_img=photo)
    for t, e in zip(distillation.targets(gt, samples),
                    teacher(gt, view=photo / 255.)):
        assert torch.equal(t, e)
    distillation.enabled = False
    assert distillation.targets(gt) is None
    # the zero term keeps the heads in the graph without changing the loss
    base = torch.tensor(2., requires_grad=True)
    kept = PriorDistillation.keep_heads_in_graph(base, preds, None)
    kept.backward()
    assert kept.item() == 2. and all(
        torch.equal(p.grad, torch.zeros_like(p)) for p in preds)


def test_build_checks_keys_and_public_head_channels():

    class NoHeads(nn.Module):
        pass

    with pytest.raises(ValueError, match='loss_prior'):
        build_prior_distillation(TEACHER, None, NoHeads(), 'X')
    assert build_prior_distillation(None, None, NoHeads(), 'X') is None
    with pytest.raises(ValueError, match='distill_channels'):
        build_prior_distillation(TEACHER, LOSS, NoHeads(), 'X')
    edge_taps = [1, 1, 1]  # EdgeTeacher: one edge map per level
    ok = NoHeads()
    ok.distill_channels = edge_taps
    assert isinstance(
        build_prior_distillation(TEACHER, LOSS, ok, 'X'), PriorDistillation)
    ok.distill_channels = [1, 1, 2]
    with pytest.raises(ValueError, match=r'head_channels \[1, 1, 2\]'):
        build_prior_distillation(TEACHER, LOSS, ok, 'X')


def test_spn_checkpoint_keys_are_generator_and_disc_only():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'tests', 'configs', 'spn_tiny_det.py')).model
    model = MODELS.build(cfg)
    assert model.generator.distill_channels == list(
        cfg.encdec.prior_learner.head_channels)
    assert model.teacher is model.prior_distill.teacher
    expected = {
        f'generator.{k}'
        for k in MODELS.build(cfg.encdec).state_dict()
    }
    expected |= {f'disc.{k}' for k in MODELS.build(cfg.disc).state_dict()}
    assert set(model.state_dict()) == expected


def test_ddp_ignore_list_finds_the_nested_teacher():
    from spn_mm.models.teachers import exclude_teacher_from_ddp
    holder = nn.Module()
    holder.generator = nn.Conv2d(1, 1, 1)
    holder.prior_distill = nn.Module()
    holder.prior_distill.teacher = nn.Conv2d(1, 2, 1)  # stands in
    names = exclude_teacher_from_ddp(holder)
    assert sorted(names) == ['prior_distill.teacher.bias',
                             'prior_distill.teacher.weight']
