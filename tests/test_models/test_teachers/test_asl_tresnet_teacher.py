"""The paper's ASL TResNet-L teacher: structure, taps and ASL weights."""
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine import Config

from spn_mm.converters import convert_asl_tresnet
from spn_mm.models.teachers import PretextTeacher
from spn_mm.registry import MODELS

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CFG = osp.join(REPO, 'configs', '_base_', 'teachers', 'tresnet_l.py')


def _cfg(**overrides) -> dict:
    cfg = Config.fromfile(CFG).asl_tresnet_l_teacher.to_dict()
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope='module')
def teacher() -> PretextTeacher:
    torch.manual_seed(0)
    return MODELS.build(_cfg())


def _to_asl(timm_key: str) -> list:
    """Inverse of the documented ASL -> timm key map for one timm key.

    Returns the ASL key(s) (the anti-aliased conv also gets its blur filter
    key), or [] for keys InPlaceABN does not have.
    """
    if timm_key.endswith('num_batches_tracked'):
        return []
    m = re.match(r'^(.*\.conv\d)\.(conv|bn)\.(.*)$', timm_key)
    if m:
        base, kind, param = m.groups()
        idx = '0' if kind == 'conv' else '1'
        if re.match(r'^body\.layer\d\.0\.conv1$', base) and \
                not base.startswith('body.layer1'):
            # strided BasicBlock conv1: Sequential(conv2d_ABN, AA)
            return [f'{base}.0.{idx}.{param}']
        return [f'{base}.{idx}.{param}']
    m = re.match(r'^(.*\.downsample\.\d+)\.(conv|bn)\.(.*)$', timm_key)
    if m:
        base, kind, param = m.groups()
        return [f'{base}.{"0" if kind == "conv" else "1"}.{param}']
    return [timm_key]


def test_parameter_count_and_pruning(teacher):
    n_params = sum(p.numel() for p in teacher.parameters())
    assert n_params == 2_578_192  # the authors' truncated TResNet-L
    body = teacher.model.timm_model.body
    assert isinstance(body.layer3, torch.nn.Identity)
    assert isinstance(body.layer4, torch.nn.Identity)
    assert isinstance(teacher.model.timm_model.head, torch.nn.Identity)
    # the anti-alias blur of the first layer2 block is timm's BlurPool2d
    assert type(body.layer2[0].conv1.aa).__name__ == 'BlurPool2d'
    assert teacher.out_channels == [76, 76, 152]


def test_taps_shapes_and_stem_nearest(teacher):
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    outs = teacher(img)
    assert [tuple(o.shape) for o in outs] == [(2, 76, 32, 32), (2, 76, 16, 16),
                                              (2, 152, 8, 8)]
    # raw taps at the 2x (64 px) view: stem 16 -> nearest x2 -> 32
    raw = teacher.run_taps(teacher.prepare_input(img))
    assert [tuple(r.shape) for r in raw] == [(2, 76, 16, 16), (2, 76, 16, 16),
                                             (2, 152, 8, 8)]
    up = raw[0].repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    torch.testing.assert_close(outs[0], up)
    torch.testing.assert_close(outs[1], raw[1])
    # ASL: the model sees bilinear 2x RGB in [0, 1], no mean/std
    view = F.interpolate(
        (img + 1) / 2, scale_factor=2, mode='bilinear', align_corners=False)
    body = teacher.model.timm_model.body
    with torch.no_grad():
        stem = body.conv1(body.s2d(view))
    torch.testing.assert_close(raw[0], stem)


def test_dry_run_matches_config():
    cfg = _cfg(out_channels=None)
    t = MODELS.build(cfg)
    assert t.out_channels == [76, 76, 152]
    t2 = MODELS.build(_cfg(num_scales=2, out_channels=None))
    assert t2.out_channels == [76, 152]
    outs = t2(torch.zeros(1, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(1, 76, 16, 16), (1, 152, 8, 8)]


def _synthetic_asl_state(teacher, extra_outside=True):
    """ASL-format tensors for the truncated part (+ a few pruned keys)."""
    g = torch.Generator().manual_seed(1)
    asl = {}
    for key, value in teacher.model.timm_model.state_dict().items():
        for asl_key in _to_asl(key):
            asl[asl_key] = torch.randn(value.shape, generator=g)
    # the anti-alias filter as stored by ASL's non-JIT Downsample
    asl['body.layer2.0.conv1.1.op.filt'] = (
        torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]) /
        16)[None, None].repeat(152, 1, 1, 1)
    if extra_outside:  # keys of layer3/head: skipped (pruned)
        asl['body.layer3.0.conv2.0.0.weight'] = torch.randn(304, 304, 3, 3)
        asl['body.layer3.0.conv3.1.weight'] = torch.randn(1216)
        asl['head.fc.weight'] = torch.randn(9605, 2432)
        asl['head.fc.bias'] = torch.randn(9605)
    return asl


def test_asl_key_map_consumes_every_key(teacher):
    asl = _synthetic_asl_state(teacher, extra_outside=False)
    mapped = convert_asl_tresnet(asl)
    own = {
        k
        for k in teacher.model.timm_model.state_dict()
        if not k.endswith('num_batches_tracked')
    }
    # every ASL key but the (constant) blur filter lands on a timm key,
    # and every timm weight of the truncated model is provided
    assert set(mapped) == own
    assert len(asl) == len(own) + 1
    # InPlaceABN scale |w| + eps -> BatchNorm weight
    w = asl['body.layer2.0.conv1.0.1.weight']
    torch.testing.assert_close(mapped['body.layer2.0.conv1.bn.weight'],
                               w.abs() + 1e-5)
    torch.testing.assert_close(mapped['body.conv1.conv.weight'],
                               asl['body.conv1.0.weight'])
    # an unknown key is an error, not silently dropped
    with pytest.raises(KeyError, match='match no rule'):
        convert_asl_tresnet({**asl, 'body.layer1.0.mystery.weight': w})
    # a wrong blur filter is rejected
    bad = dict(asl)
    bad['body.layer2.0.conv1.1.op.filt'] = torch.ones(152, 1, 3, 3)
    with pytest.raises(ValueError, match='anti-alias'):
        convert_asl_tresnet(bad)
    # timm-format checkpoints pass through unchanged
    assert convert_asl_tresnet(mapped) == mapped
    # same result as timm's own ASL filter (which has no blur-filter rule)
    from timm.models.tresnet import checkpoint_filter_fn
    no_filt = {k: v for k, v in asl.items() if not k.endswith('filt')}
    ref = checkpoint_filter_fn({'model': no_filt}, None)
    assert set(ref) == set(mapped)
    for key, value in ref.items():
        torch.testing.assert_close(mapped[key], value, msg=key)


@pytest.mark.parametrize('container', ['model', 'state_dict'])
def test_asl_checkpoint_loads_into_timm_params(tmp_path, container):
    t = MODELS.build(_cfg())
    asl = _synthetic_asl_state(t)
    path = str(tmp_path / 'asl_tresnet_l.pth')
    torch.save({container: asl, 'num_classes': 9605}, path)
    t.checkpoint = path
    t.init_weights()
    timm_model = t.model.timm_model
    torch.testing.assert_close(timm_model.body.conv1.conv.weight,
                               asl['body.conv1.0.weight'])
    torch.testing.assert_close(timm_model.body.conv1.bn.weight,
                               asl['body.conv1.1.weight'].abs() + 1e-5)
    torch.testing.assert_close(timm_model.body.conv1.bn.running_var,
                               asl['body.conv1.1.running_var'])
    blk = timm_model.body.layer2[0]
    torch.testing.assert_close(blk.conv1.conv.weight,
                               asl['body.layer2.0.conv1.0.0.weight'])
    torch.testing.assert_close(blk.conv1.bn.bias,
                               asl['body.layer2.0.conv1.0.1.bias'])
    torch.testing.assert_close(blk.downsample[1].conv.weight,
                               asl['body.layer2.0.downsample.1.0.weight'])
    torch.testing.assert_close(
        blk.downsample[1].bn.running_mean,
        asl['body.layer2.0.downsample.1.1.running_mean'])
    torch.testing.assert_close(blk.se.fc2.bias,
                               asl['body.layer2.0.se.fc2.bias'])
    torch.testing.assert_close(
        timm_model.body.layer1[3].conv2.bn.weight,
        asl['body.layer1.3.conv2.1.weight'].abs() + 1e-5)
    # every loaded tensor equals its mapped ASL source
    mapped = convert_asl_tresnet(asl)
    own = timm_model.state_dict()
    for key, value in mapped.items():
        if key in own:
            torch.testing.assert_close(own[key], value, msg=key)
    assert not any(p.requires_grad for p in t.parameters())


def test_asl_checkpoint_missing_weight_is_an_error(tmp_path):
    t = MODELS.build(_cfg())
    asl = _synthetic_asl_state(t, extra_outside=False)
    del asl['body.layer1.2.se.fc1.bias']
    path = str(tmp_path / 'partial.pth')
    torch.save({'model': asl}, path)
    t.checkpoint = path
    with pytest.raises(KeyError, match='layer1.2.se.fc1.bias'):
        t.init_weights()
