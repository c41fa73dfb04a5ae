"""tools/test.py --save-images: which metrics it configures (issue 14)."""
import os.path as osp

import pytest
from mmengine.config import Config
from utils import load_script


def load_test_tool():
    return load_script('tools/test.py', 'spn_test_tool')


def test_save_images_sets_every_spn_metric(tmp_path):
    tool = load_test_tool()
    cfg = Config(
        dict(
            test_evaluator=dict(
                type='Evaluator',
                metrics=[
                    dict(type='SPNInpaintingMetric', prefix='a'),
                    dict(type='PSNR'),
                    dict(type='SPNInpaintingMetric', prefix='b')
                ])))
    assert tool.set_save_images(cfg, str(tmp_path)) == 2
    metrics = cfg.test_evaluator.metrics
    assert metrics[0].save_images_dir == str(tmp_path / 'a')
    assert metrics[2].save_images_dir == str(tmp_path / 'b')
    assert 'save_images_dir' not in metrics[1]
    one = Config(dict(test_evaluator=dict(type='SPNInpaintingMetric')))
    assert tool.set_save_images(one, 'rel') == 1
    assert one.test_evaluator.save_images_dir == osp.abspath('rel')


def test_save_images_without_spn_metric_exits_with_message():
    tool = load_test_tool()
    cfg = Config(dict(test_evaluator=[dict(type='PSNR')]))
    with pytest.raises(SystemExit, match='--save-images.*SPNInpaintingMetric'):
        tool.set_save_images(cfg, 'out')
