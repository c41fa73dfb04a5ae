"""tools/analysis/model_complexity.py and spn_mm.analysis.complexity."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from spn_mm.registry import MODELS
from spn_mm.analysis.complexity import (complexity_report, count_flops,
                                     format_report, parameter_breakdown)
from test_apis.spn_api_fixtures import REPO_ROOT, TINY_PROB
from utils import run_tool


def test_default_det_config_cli(tmp_path):
    """The paper numbers, counted on the real modules (meta device)."""
    out = str(tmp_path / 'det.json')
    proc = run_tool('analysis/model_complexity.py', [
        osp.join(REPO_ROOT, 'configs', 'spn_places2.py'), '--no-latency',
        '--json', out
    ])
    report = json.load(open(out))
    params = report['params']
    assert params['prior_learner'] == 22_618_672
    assert params['distillation_heads'] == 53_808
    assert params['image_generator'] == 28_083_971
    assert params['generator'] == 50_702_643
    assert params['discriminator'] == 2_763_776
    assert params['variational'] is None
    assert report['heads_counted_in_prior_learner'] is True
    assert report['input_shape'] == [1, 3, 256, 256]
    assert round(report['gflops'], 1) == 726.9
    flops = report['flops']
    assert round(flops['prior_learner'] / 1e9, 1) == 285.8
    assert round(flops['distillation_heads'] / 1e9, 1) == 1.3
    assert round(flops['image_generator'] / 1e9, 1) == 441.1
    assert flops['other'] == 0
    assert report['latency'] is None
    table = proc.stdout
    for text in ('22,618,672', '53,808', '28,083,971', '2,763,776', '726.9',
                 'Distillation heads are counted in the prior learner'):
        assert text in table


def test_default_prob_config():
    report = complexity_report(
        osp.join(REPO_ROOT, 'configs', 'spn_paris_prob.py'), latency=False)
    params = report['params']
    assert params['discriminator'] == 2_763_841
    assert params['generator'] == 68_512_883
    assert params['variational'] == 16_519_936
    assert params['prior_learner_with_variational'] == 40_908_336
    assert round(report['gflops'], 1) == 691.8
    assert 'variational prior' in format_report(report)


def test_flop_parts_sum_and_match_plain_count():
    cfg = Config.fromfile(TINY_PROB).model.encdec
    with torch.device('meta'):
        gen = MODELS.build(cfg)
    flops = count_flops(gen, (64, 96))
    parts = ['prior_learner', 'variational', 'image_generator', 'other']
    assert sum(flops[p] for p in parts) == flops['total']
    assert 0 < flops['distillation_heads'] < flops['prior_learner']
    assert flops['variational'] > 0
    with FlopCounterMode(display=False) as counter:
        gen.forward_test(
            torch.zeros(1, 3, 64, 96, device='meta'),
            torch.zeros(1, 1, 64, 96, device='meta'))
    assert counter.get_total_flops() == flops['total']
    # batch scales linearly
    assert count_flops(gen, (64, 96), batch=2)['total'] == 2 * flops['total']
    p = parameter_breakdown(gen)
    assert p['generator'] == p['prior_learner'] + p['variational'] + \
        p['image_generator']


def test_tiny_latency_cli(tmp_path):
    out = str(tmp_path / 'tiny.json')
    proc = run_tool('analysis/model_complexity.py', [
        TINY_PROB, '--shape', '64', '--repeats', '3', '--warmup', '1',
        '--json', out
    ])
    report = json.load(open(out))
    lat = report['latency']
    assert lat['repeats'] == 3 and lat['warmup'] == 1
    assert lat['device'] == 'cpu'
    assert 0 < lat['min_s'] <= lat['median_s'] <= lat['max_s']
    assert report['input_shape'] == [1, 3, 64, 64]
    assert 'median' in proc.stdout and 'Table 6 row' in proc.stdout


def test_bad_shape():
    with pytest.raises(ValueError, match='multiples of 32'):
        complexity_report(TINY_PROB, shape=(48, 64), latency=False)
