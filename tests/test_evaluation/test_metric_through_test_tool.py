"""Issue-4 acceptance: the bucketed metric through tools/test.py."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from utils import REPO_ROOT, run_tool

DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'spn_demo.py')


@pytest.fixture(scope='module')
def demo_data(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('demo_eval') / 'data')
    run_tool('prepare_demo_data.py', ['--out', out, '--train-per-photo',
                                      '1', '--val-per-side', '3'])
    return out


def run_fake(tmp_path, data_root: str, value=None) -> dict:
    cfg = tmp_path / 'fake_cfg.py'
    cfg.write_text(
        f"_base_ = ['{DEMO_CFG}']\n"
        "custom_imports = dict(imports=['spn_mm', 'fake_models'], "
        'allow_failed_imports=False)\n'
        "model = dict(_delete_=True, type='OracleTestInpaintor', "
        "data_preprocessor=dict(type='DataPreprocessor', mean=[127.5], "
        f"std=[127.5]), value={value!r})\n"
        f"test_dataloader = dict(batch_size=4, dataset=dict("
        f"data_root='{data_root}'))\n")
    ckpt = tmp_path / 'empty.pth'
    torch.save({'state_dict': {'dummy': torch.zeros(1)}, 'meta': {}}, ckpt)
    out = tmp_path / 'metrics.json'
    work = tmp_path / 'work'
    proc = run_tool('test.py', [str(cfg), str(ckpt), '--work-dir', str(work),
                                '--out', str(out)],
                    env=dict(PYTHONPATH=osp.join(REPO_ROOT, 'tests')))
    with open(out) as f:
        metrics = json.load(f)
    return dict(metrics=metrics, log=proc.stdout + proc.stderr, work=work)


def test_oracle_gives_perfect_scores_capped_and_counted(demo_data, tmp_path):
    res = run_fake(tmp_path, demo_data)
    m = res['metrics']
    buckets = sorted({k.split('/')[0] for k in m if '/' in k})
    assert 'All' in buckets and len(buckets) >= 3
    for b in buckets:
        assert m[f'{b}/SSIM'] == pytest.approx(1.0)
        assert m[f'{b}/MAE'] == 0
        assert m[f'{b}/PSNR_capped_count'] == m[f'{b}/count'] > 0
    assert m['All/count'] == 27  # every pair, no drop_last (batch 4)
    # the manifest hash is printed with the result, tables saved
    with open(osp.join(demo_data, 'demo_info.json')) as f:
        mhash = json.load(f)['manifest_hash']
    assert mhash in res['log']
    assert glob.glob(str(res['work'] / '*' / '*.json'))
    assert glob.glob(str(res['work'] / '*' / '*.csv'))


def test_fixed_output_matches_skimage_official_protocol(demo_data, tmp_path):
    value = 100.7
    m = run_fake(tmp_path, demo_data, value=value)['metrics']
    from spn_mm.datasets.manifest_utils import load_manifest
    _, records, _ = load_manifest(
        osp.join(demo_data, 'meta', 'eval_manifest.jsonl'))
    psnr, ssim, mae = [], [], []
    for rec in records:
        gt = cv2.imread(osp.join(demo_data, 'val', rec['img']))[..., ::-1]
        mask = cv2.imread(osp.join(demo_data, 'val_masks', rec['mask']),
                          cv2.IMREAD_GRAYSCALE) > 127
        pred = gt.astype(np.float64).copy()
        pred[mask] = value
        pred = np.floor(pred).astype(np.uint8)  # official truncation
        psnr.append(peak_signal_noise_ratio(gt, pred, data_range=255))
        ssim.append(structural_similarity(pred, gt, data_range=255,
                                          channel_axis=2, win_size=11))
        mae.append(np.mean(np.abs(pred.mean(2) - gt.mean(2))) / 255)
    assert m['All/PSNR'] == pytest.approx(np.mean(psnr), abs=1e-6)
    assert m['All/SSIM'] == pytest.approx(np.mean(ssim), abs=1e-6)
    assert m['All/MAE'] == pytest.approx(np.mean(mae), abs=1e-8)
    assert m['All/PSNR_capped_count'] == 0
