import pytest
import torch
import torch.nn as nn

from spn_mm.registry import MODELS
from utils import TINY_LEARNER

# one RDB and one reconstruction block, distinct head widths
TINY = dict(TINY_LEARNER, num_rdbs=1, num_recon_blocks=1,
            head_channels=[5, 6, 7])


def _teacher(**kwargs):
    return MODELS.build(dict(type='SPNPriorTeacher', learner=TINY, **kwargs))


def test_shapes_channels_and_input():
    torch.manual_seed(0)
    t = _teacher()
    assert t.out_channels == [8, 16, 32]  # pre-head layouts b, 2b, 4b
    seen = []
    t.learner.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    img = torch.rand(2, 3, 16, 16) * 2 - 1
    outs = t(img)
    assert [tuple(o.shape) for o in outs] == [(2, 8, 16, 16), (2, 16, 8, 8),
                                              (2, 32, 4, 4)]
    # the learner sees the full image (nearest 2x, [0, 1]) + an all-zero mask
    x = seen[0]
    assert tuple(x.shape) == (2, 4, 32, 32)
    ref = ((img + 1) / 2).repeat_interleave(2, 2).repeat_interleave(2, 3)
    torch.testing.assert_close(x[:, :3], ref)
    assert x[:, 3].abs().sum() == 0
    # targets equal the learner's pre-head priors
    with torch.no_grad():
        priors, distill = t.learner(x)
    for o, p in zip(outs, priors):
        torch.testing.assert_close(o, p)
    assert not any(p.requires_grad for p in t.parameters())
    holder = nn.Module()
    holder.teacher = t
    holder.train()
    assert not t.learner.training
    assert holder.state_dict() == {}


def test_distill_target_and_num_scales():
    t = _teacher(target='distill', num_scales=2)
    assert t.out_channels == [6, 7]
    outs = t(torch.zeros(1, 3, 16, 16))
    assert [tuple(o.shape) for o in outs] == [(1, 6, 8, 8), (1, 7, 4, 4)]


def test_checkpoint_with_prefix(tmp_path):
    src = MODELS.build(TINY)
    for p in src.parameters():
        p.data.normal_()
    state = {
        'generator.prior_learner.' + k: v
        for k, v in src.state_dict().items()
    }
    state['generator.other.weight'] = torch.zeros(3)
    path = str(tmp_path / 'spn.pth')
    torch.save({'state_dict': state}, path)
    t = _teacher(checkpoint=path)
    t.init_weights()
    for k, v in src.state_dict().items():
        torch.testing.assert_close(t.learner.state_dict()[k], v)
    t.checkpoint = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match='model.teacher.checkpoint'):
        t.init_weights()


def test_variational_learner_is_rejected():
    with pytest.raises(ValueError, match='deterministic'):
        MODELS.build(
            dict(
                type='SPNPriorTeacher',
                learner=dict(TINY, variational_channels=4)))
