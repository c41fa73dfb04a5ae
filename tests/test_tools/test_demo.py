"""The main job on the embedded demo data, shortened (few iterations)."""
import json
import os.path as osp

import pytest
from utils import REPO_ROOT, run_tool

DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'spn_demo.py')


@pytest.fixture(scope='module')
def demo_data(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('demo') / 'data')
    run_tool('prepare_demo_data.py', ['--out', out, '--train-per-photo',
                                      '4', '--val-per-side', '2'])
    return out


def demo_options(root: str) -> list:
    return [f'{k}.dataset.data_root={root}'
            for k in ('train_dataloader', 'val_dataloader',
                      'test_dataloader')]


def test_prepare_demo_data_is_idempotent_and_splits_photos(demo_data):
    with open(osp.join(demo_data, 'demo_info.json')) as f:
        info = json.load(f)
    assert info['num_train'] == 6 * 4 and info['num_val'] == 3 * 4
    assert not set(info['train_photos']) & set(info['val_photos'])
    # the stereo pair is one scene: both halves on the val side
    assert {'motorcycle_left', 'motorcycle_right'} <= set(info['val_photos'])
    proc = run_tool('prepare_demo_data.py', ['--out', demo_data,
                                             '--train-per-photo', '4',
                                             '--val-per-side', '2'])
    assert 'up to date' in proc.stdout


def test_short_demo_train_test_and_report(demo_data, tmp_path):
    work = str(tmp_path / 'work')
    run_tool('train.py', [DEMO_CFG, '--work-dir', work, '--cfg-options',
                          *demo_options(demo_data), 'train_cfg.max_iters=3',
                          'train_cfg.val_interval=3',
                          'train_dataloader.batch_size=2'])
    ckpt = osp.join(work, 'iter_3.pth')
    assert osp.isfile(ckpt)
    out = str(tmp_path / 'metrics.json')
    proc = run_tool('test.py', [DEMO_CFG, ckpt, '--work-dir', work, '--out',
                                out, '--cfg-options',
                                *demo_options(demo_data)])
    with open(out) as f:
        metrics = json.load(f)
    assert any('PSNR' in k for k in metrics), metrics
    assert 'All' in proc.stdout + proc.stderr
    # the comparison report (untrained / trained / mean fill / Telea)
    cfg_copy = tmp_path / 'demo_cfg.py'
    cfg_copy.write_text(
        f"_base_ = ['{DEMO_CFG}']\ndata_root = '{demo_data}'\n"
        f"test_dataloader = dict(dataset=dict(data_root='{demo_data}'))\n")
    report = str(tmp_path / 'report')
    proc = run_tool(osp.join('analysis', 'demo_report.py'),
                    [str(cfg_copy), ckpt, '--out', report, '--num-vis', '2'])
    with open(osp.join(report, 'demo_report.json')) as f:
        rep = json.load(f)
    assert set(rep['table']) == {'untrained', 'trained', 'mean_fill',
                                 'telea'}
    assert rep['num_pairs'] == 12
    assert osp.isfile(osp.join(report, 'demo_grid.png'))
