"""PretextTeacher: taps, normalisation, freezing, weights, state dicts."""
import os.path as osp
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import Config
from mmengine.runner.checkpoint import get_state_dict

from spn_mm.models.teachers import (EdgeTeacher, PretextTeacher,
                                    exclude_teacher_from_ddp,
                                    strip_teacher_keys)
from spn_mm.registry import MODELS

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CFG_DIR = osp.join(REPO, 'configs', '_base_', 'teachers')
ALL_CFGS = [
    'asl_tresnet_l', 'resnet50_in1k', 'hrnet_w18_seg', 'edge_canny',
    'rand_tresnet_l', 'spn_prior_places2'
]


# teacher variable -> its base file (the TResNet-L variants share one)
CFG_FILES = {'asl_tresnet_l': 'tresnet_l', 'rand_tresnet_l': 'tresnet_l'}


def _cfg(name: str, **overrides) -> dict:
    path = osp.join(CFG_DIR, CFG_FILES.get(name, name) + '.py')
    cfg = Config.fromfile(path)[name + '_teacher'].to_dict()
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope='module')
def r50() -> PretextTeacher:
    torch.manual_seed(0)
    return MODELS.build(_cfg('resnet50_in1k'))


class _Holder(nn.Module):
    """Stand-in for an inpaintor storing the teacher as ``self.teacher``."""

    def __init__(self, teacher: nn.Module) -> None:
        super().__init__()
        self.generator = nn.Conv2d(3, 3, 3, padding=1)
        self.teacher = teacher


def test_resnet50_taps_and_normalisation(r50):
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    outs = r50(img)
    # 2x view 64: relu (stride 2) 32, layer1 (stride 4) 16, layer2 (8) 8
    assert [tuple(o.shape) for o in outs] == [(2, 64, 32, 32),
                                              (2, 256, 16, 16), (2, 512, 8, 8)]
    assert r50.out_channels == [64, 256, 512]
    assert sum(p.numel() for p in r50.parameters()) == 1_444_928
    # the stem target is relu(bn1(conv1(normalised bilinear 2x view)))
    view = F.interpolate(
        (img + 1) / 2, scale_factor=2, mode='bilinear', align_corners=False)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    m = r50.model
    with torch.no_grad():
        ref = F.relu(m.norm1(m.conv1((view - mean) / std)))
    torch.testing.assert_close(outs[0], ref)


def test_bgr_channel_order():
    t = MODELS.build(
        _cfg(
            'resnet50_in1k',
            channel_order='bgr',
            taps=['conv1'],
            tap_resize='auto',
            prune=[],
            out_channels=None,
            mean=[0.4, 0.5, 0.6],
            std=[0.2, 0.25, 0.3]))
    img = torch.rand(1, 3, 16, 16) * 2 - 1
    view = F.interpolate(
        (img + 1) / 2, scale_factor=2, mode='bilinear',
        align_corners=False).flip(1)
    mean = torch.tensor([0.4, 0.5, 0.6]).view(1, 3, 1, 1)
    std = torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = t.model.conv1((view - mean) / std)  # 16x16 == base size
    torch.testing.assert_close(t(img)[0], ref)


def test_stop_after_last_tap_skips_later_stages():
    calls = []
    t = MODELS.build(_cfg('resnet50_in1k', prune=[], out_channels=None))
    t.model.layer3.register_forward_hook(lambda *a: calls.append('layer3'))
    t(torch.zeros(1, 3, 32, 32))
    assert calls == []
    t2 = MODELS.build(
        _cfg('resnet50_in1k', prune=[], stop_after_last_tap=False))
    t2.model.layer3.register_forward_hook(lambda *a: calls.append('layer3'))
    t2(torch.zeros(1, 3, 32, 32))
    assert calls == ['layer3']


def test_frozen_behaviour(r50):
    assert not any(p.requires_grad for p in r50.parameters())
    holder = _Holder(r50)
    holder.train()
    assert holder.generator.training
    assert not r50.training
    assert not any(m.training for m in r50.modules())
    img = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    outs = r50(img)
    assert all(not o.requires_grad and o.grad_fn is None for o in outs)
    # BN statistics do not move in a "training" forward
    before = r50.model.norm1.running_mean.clone()
    holder.train()
    r50(torch.rand(2, 3, 32, 32) * 2 - 1)
    torch.testing.assert_close(r50.model.norm1.running_mean, before)


def test_num_scales_and_tap_index_on_hrnet():
    t = MODELS.build(_cfg('hrnet_w18_seg', dry_run_size=16))
    # channels come from a dry run: layer1 256, stage4 branch 0, FCN convs
    assert t.out_channels == [256, 18, 270]
    outs = t(torch.rand(1, 3, 16, 16) * 2 - 1)
    assert [tuple(o.shape) for o in outs] == [(1, 256, 16, 16), (1, 18, 8, 8),
                                              (1, 270, 4, 4)]
    # the coarsest target is the area-pooled FCN feature of the 2x view
    raw = t.run_taps(t.prepare_input(torch.zeros(1, 3, 16, 16)))
    assert tuple(raw[2].shape) == (1, 270, 8, 8)
    t2 = MODELS.build(
        _cfg('hrnet_w18_seg', num_scales=2, out_channels=[256, 18, 270]))
    assert t2.out_channels == [18, 270]
    outs2 = t2(torch.rand(1, 3, 16, 16) * 2 - 1)
    assert [tuple(o.shape) for o in outs2] == [(1, 18, 8, 8), (1, 270, 4, 4)]
    assert not any(p.requires_grad for p in t.parameters())
    # SyncBN is never used (CPU DDP)
    assert not any('SyncBatchNorm' in type(m).__name__ for m in t.modules())


@pytest.mark.parametrize('name', ALL_CFGS)
def test_building_never_reads_weights(name, monkeypatch, tmp_path):
    def _no_load(*args, **kwargs):
        raise AssertionError('a teacher read a checkpoint while building')

    monkeypatch.setattr(torch, 'load', _no_load)
    missing = str(tmp_path / 'does_not_exist.pth')
    cfg = _cfg(name)
    if 'checkpoint' in cfg or name == 'spn_prior_places2':
        cfg['checkpoint'] = missing
    teacher = MODELS.build(cfg)
    if 'checkpoint' in cfg:
        monkeypatch.undo()
        with pytest.raises(FileNotFoundError) as err:
            teacher.init_weights()
        assert 'model.teacher.checkpoint' in str(err.value)
        assert missing in str(err.value)


def test_missing_checkpoint_names_custom_key(tmp_path):
    path = str(tmp_path / 'nope.pth')
    t = MODELS.build(
        _cfg(
            'resnet50_in1k',
            checkpoint=path,
            checkpoint_key='model.generator.teacher.checkpoint'))
    with pytest.raises(
            FileNotFoundError, match=r'model\.generator\.teacher\.checkpoint'):
        t.init_weights()
    t.checkpoint = 'https://example.com/w.pth'
    with pytest.raises(ValueError, match='local file path'):
        t.init_weights()


def test_weight_loading_config_entries_are_rejected():
    with pytest.raises(ValueError, match='must not load weights'):
        MODELS.build(
            _cfg(
                'asl_tresnet_l',
                model=dict(
                    type='mmpretrain.TIMMBackbone',
                    model_name='tresnet_l',
                    pretrained=True)))
    with pytest.raises(ValueError, match='must not load weights'):
        MODELS.build(
            _cfg(
                'resnet50_in1k',
                model=dict(
                    type='mmpretrain.ResNet',
                    depth=50,
                    init_cfg=dict(type='Pretrained', checkpoint='x.pth'))))


def test_mmpretrain_checkpoint_with_prefix(tmp_path, r50):
    src = MODELS.build(_cfg('resnet50_in1k', prune=[]))
    for p in src.model.parameters():
        p.data.normal_()
    state = OrderedDict(
        ('backbone.' + k, v) for k, v in src.model.state_dict().items())
    state['head.fc.weight'] = torch.randn(1000, 2048)
    path = str(tmp_path / 'r50_cls.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    t = MODELS.build(_cfg('resnet50_in1k', checkpoint=path))
    t.init_weights()
    torch.testing.assert_close(t.model.layer2[3].conv2.weight,
                               src.model.layer2[3].conv2.weight)
    torch.testing.assert_close(t.model.conv1.weight, src.model.conv1.weight)
    # layer3/4 keys of the full checkpoint were skipped (pruned)
    assert isinstance(t.model.layer3, nn.Identity)
    assert not any(p.requires_grad for p in t.parameters())


def test_invalid_arguments():
    with pytest.raises(KeyError, match='layer9'):
        MODELS.build(_cfg('resnet50_in1k', taps=['relu', 'layer1', 'layer9']))
    with pytest.raises(ValueError, match='pruned module'):
        MODELS.build(_cfg('resnet50_in1k', taps=['relu', 'layer1', 'layer3']))
    with pytest.raises(ValueError, match='num_scales'):
        MODELS.build(_cfg('resnet50_in1k', num_scales=4))
    with pytest.raises(ValueError, match='tap_resize'):
        MODELS.build(_cfg('resnet50_in1k', tap_resize=['nearest']))
    with pytest.raises(KeyError, match='checkpoint_key_map'):
        MODELS.build(_cfg('resnet50_in1k', checkpoint_key_map='nope'))
    t = MODELS.build(_cfg('resnet50_in1k'))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        t(torch.zeros(1, 4, 32, 32))
    with pytest.raises(ValueError, match='multiples of 4'):
        t(torch.zeros(1, 3, 30, 30))
    # a tap that lands at the wrong size with resize "none" is an error
    t2 = MODELS.build(
        _cfg(
            'resnet50_in1k',
            tap_resize='none',
            taps=['layer1', 'layer1', 'layer2']))
    with pytest.raises(ValueError, match="tap 'layer1'"):
        t2(torch.zeros(1, 3, 32, 32))


def test_state_dict_excludes_teacher_and_loads_without_it(r50):
    holder = _Holder(r50)
    sd = holder.state_dict()
    assert set(sd) == {'generator.weight', 'generator.bias'}
    assert set(get_state_dict(holder)) == set(sd)  # mmengine's saver
    assert len(r50.state_dict()) > 0  # the teacher alone still has weights
    # teacher-free checkpoint loads strictly; teacher weights untouched
    before = r50.model.conv1.weight.clone()
    new_sd = {k: torch.zeros_like(v) for k, v in sd.items()}
    holder.load_state_dict(new_sd, strict=True)
    torch.testing.assert_close(r50.model.conv1.weight, before)
    assert holder.generator.weight.abs().sum() == 0
    # mmengine's loader too
    from mmengine.runner.checkpoint import load_state_dict
    load_state_dict(holder, new_sd, strict=True)
    torch.testing.assert_close(r50.model.conv1.weight, before)


def test_persistent_teacher_and_strip_helper():
    teacher = EdgeTeacher()
    t = MODELS.build(_cfg('resnet50_in1k', persistent=True))
    holder = _Holder(t)
    sd = holder.state_dict()
    assert any(k.startswith('teacher.model.') for k in sd)
    stripped = strip_teacher_keys(sd)
    assert set(stripped) == {'generator.weight', 'generator.bias'}
    wrapped = {'module.' + k: v for k, v in sd.items()}
    assert set(strip_teacher_keys(wrapped)) == {
        'module.generator.weight', 'module.generator.bias'
    }
    assert isinstance(stripped, OrderedDict)
    assert teacher.state_dict() == {}  # weight-free
    names = exclude_teacher_from_ddp(holder)
    assert names and all(n.startswith('teacher.') for n in names)
    assert set(holder._ddp_params_and_buffers_to_ignore) == set(names)
