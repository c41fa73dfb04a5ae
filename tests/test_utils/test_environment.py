"""The pinned stack imports and the stack fixes are active."""
import importlib.metadata as md

import pytest


@pytest.mark.parametrize('dist,version', [
    ('torch', '2.9.1'),
    ('torchvision', '0.24.1'),
    ('mmengine', '0.10.7'),
    ('mmcv', '2.1.0'),
    ('mmagic', '1.2.0'),
    ('mmpretrain', '1.2.0'),
    ('mmsegmentation', '1.2.2'),
])
def test_pinned_versions(dist, version):
    assert md.version(dist).split('+')[0] == version


def test_numpy_below_2():
    import numpy as np
    assert int(np.__version__.split('.')[0]) < 2


def test_mmcv_full_ops_run_on_cpu():
    import torch
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, 0.5)
    assert keep.tolist() == [0, 2]


def test_openmmlab_packages_import():
    import mmagic.models  # noqa: F401
    import mmagic.evaluation  # noqa: F401
    import mmpretrain.models  # noqa: F401
    import mmseg.models  # noqa: F401


def test_collect_env_reports_stack():
    from spn_mm.utils import collect_env
    env = collect_env()
    for key in ('MMEngine', 'MMCV', 'MMagic', 'MMPretrain', 'MMSegmentation',
                'spn_mm'):
        assert key in env
    assert env['MMCV ops'] == 'available'
