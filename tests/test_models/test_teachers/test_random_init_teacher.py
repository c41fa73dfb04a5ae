import os.path as osp

import pytest
import torch
from mmengine import Config

from spn_mm.registry import MODELS

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CFG = osp.join(REPO, 'configs', '_base_', 'teachers', 'tresnet_l.py')


def _r18(seed: int) -> dict:
    return dict(
        type='RandomInitTeacher',
        model=dict(type='mmpretrain.ResNet', depth=18),
        taps=['relu', 'layer1', 'layer2'],
        prune=['layer3', 'layer4'],
        init_seed=seed)


def test_same_seed_same_targets_and_global_rng_untouched():
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = MODELS.build(_r18(7))
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(999)  # a different global RNG state
    b = MODELS.build(_r18(7))
    c = MODELS.build(_r18(8))
    ta, tb, tc = a(img), b(img), c(img)
    for x, y in zip(ta, tb):
        assert torch.equal(x, y)
    assert not torch.equal(ta[2], tc[2])
    assert [tuple(t.shape) for t in ta] == [(2, 64, 32, 32), (2, 64, 16, 16),
                                            (2, 128, 8, 8)]
    # the Runner's init_weights keeps the seeded weights
    b.init_weights()
    for x, y in zip(ta, b(img)):
        assert torch.equal(x, y)
    assert not any(p.requires_grad for p in a.parameters())


def test_rand_tresnet_config_is_deterministic():
    cfg = Config.fromfile(CFG).rand_tresnet_l_teacher.to_dict()
    a, b = MODELS.build(cfg), MODELS.build(cfg)
    assert sum(p.numel() for p in a.parameters()) == 2_578_192
    img = torch.rand(1, 3, 32, 32) * 2 - 1
    outs = a(img)
    assert [tuple(o.shape) for o in outs] == [(1, 76, 32, 32), (1, 76, 16, 16),
                                              (1, 152, 8, 8)]
    for x, y in zip(outs, b(img)):
        assert torch.equal(x, y)


def test_checkpoint_is_rejected():
    with pytest.raises(ValueError, match='checkpoint'):
        MODELS.build(dict(_r18(0), checkpoint='x.pth'))
