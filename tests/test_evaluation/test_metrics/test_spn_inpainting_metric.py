import csv
import json
import logging
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmagic.structures import DataSample
from mmengine.logging import MMLogger
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch.utils.data import DataLoader

from spn_mm.datasets.transforms.masks import generate_irregular_mask
from spn_mm.registry import METRICS
from test_datasets.spn_data_fixtures import photo

SIZE = 64
RANGES = [(0.05, 0.18), (0.22, 0.38), (0.42, 0.58)]


def make_samples(n=9, seed=0, pred_fn=None, k=None):
    """Data-sample dicts as mmagic's test loop hands them to metrics.

    gt_img: (3,H,W) uint8 BGR (DataPreprocessor converts RGB->BGR at test);
    output.pred_img: (3,H,W) or (K,3,H,W) float BGR 0-255.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rgb = photo(i, (SIZE, SIZE))
        bgr = rgb[..., ::-1]
        gt = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))
        mask = generate_irregular_mask((SIZE, SIZE), RANGES[i % 3], rng)
        mask_t = torch.from_numpy(mask.transpose(2, 0, 1).copy())
        pred = gt.float() if pred_fn is None else pred_fn(i, gt, mask_t, rng)
        ds = DataSample(gt_img=gt, mask=mask_t)
        ds.set_metainfo(
            dict(
                sample_idx=i,
                manifest_idx=i,
                gt_path=f'img{i}.png',
                mask_path=f'mask{i}.png',
                hole_ratio=float(mask.mean()),
                gt_img_output_channel_order='BGR'))
        ds.output = DataSample(pred_img=pred)
        out.append(ds.to_dict())
    return out


def noisy_pred(i, gt, mask, rng):
    """A fixed non-trivial prediction with fractional values."""
    g = gt.double()
    noise = torch.from_numpy(rng.normal(0, 20, g.shape))
    blur = torch.nn.functional.avg_pool2d(g[None], 5, 1, 2)[0]
    return (0.5 * g + 0.5 * blur + noise + 0.37).clamp(0, 255).float()


def run_metric(samples, batch=2, **kwargs):
    metric = METRICS.build(dict(type='SPNInpaintingMetric', **kwargs))
    loader = DataLoader(list(range(len(samples))), batch_size=batch)
    metric.prepare(torch.nn.Module(), loader)  # what mmagic's loops call
    for start in range(0, len(samples), batch):
        metric.process(None, samples[start:start + batch])
    return metric, metric.evaluate()  # no size, as in MultiTestLoop


def ref_spn(sample):
    """Official evaluation, written out independently on HWC arrays."""
    gt = sample['gt_img'].numpy().transpose(1, 2, 0).astype(np.float32)
    pred = sample['output']['pred_img'].numpy().transpose(1, 2, 0)
    m = sample['mask'].numpy().transpose(1, 2, 0).astype(np.float32)
    # official: [0,1] images, composite, (x * 255).astype(uint8)
    comp01 = (pred / 255.) * m + (gt / 255.) * (1 - m)
    comp = (comp01.astype(np.float32) * 255).astype(np.uint8)
    gt8 = ((gt / 255.).astype(np.float32) * 255).astype(np.uint8)
    psnr = peak_signal_noise_ratio(gt8, comp, data_range=255)
    ssim = structural_similarity(
        comp, gt8, data_range=255, channel_axis=2, win_size=11)
    l1 = np.mean(np.abs(np.mean(comp, 2) - np.mean(gt8, 2))) / 255
    return psnr, ssim, l1, comp, gt8


def test_oracle_every_bucket_capped_and_counted(tmp_path):
    samples = make_samples(9)
    metric, res = run_metric(samples, output_dir=str(tmp_path))
    for b in ('0.0-0.2', '0.2-0.4', '0.4-0.6', 'All'):
        assert res[f'{b}/SSIM'] == 1.0
        assert res[f'{b}/MAE'] == 0.0
        assert res[f'{b}/PSNR'] == 100.0
        assert res[f'{b}/PSNR_capped_count'] == res[f'{b}/count']
    assert [res[f'{b}/count']
            for b in ('0.0-0.2', '0.2-0.4', '0.4-0.6')] == [3, 3, 3]
    assert res['All/count'] == 9
    # cap is configurable
    _, res = run_metric(samples, psnr_cap=60., save_results=False)
    assert res['All/PSNR'] == 60.0 and res['All/PSNR_capped_count'] == 9


def test_spn_compat_equals_skimage_on_truncated_composites(tmp_path):
    samples = make_samples(9, pred_fn=noisy_pred)
    metric, res = run_metric(samples, compat='spn', output_dir=str(tmp_path))
    per_bucket = {}
    for i, s in enumerate(samples):
        psnr, ssim, l1, comp, gt8 = ref_spn(s)
        # ... and identical numbers from the images saved as PNG
        cv2.imwrite(str(tmp_path / f'{i}.png'), comp)
        cv2.imwrite(str(tmp_path / f'{i}_gt.png'), gt8)
        comp2 = cv2.imread(str(tmp_path / f'{i}.png'))
        gt2 = cv2.imread(str(tmp_path / f'{i}_gt.png'))
        assert peak_signal_noise_ratio(gt2, comp2, data_range=255) == psnr
        b = RANGES.index(
            next(r for r in RANGES
                 if r[0] <= s['mask'].float().mean() <= r[1]))
        for key in (b, 'All'):
            per_bucket.setdefault(key, []).append((psnr, ssim, l1))
    names = ['0.0-0.2', '0.2-0.4', '0.4-0.6']
    for key, vals in per_bucket.items():
        name = 'All' if key == 'All' else names[key]
        ref = np.mean(vals, axis=0)
        assert abs(res[f'{name}/PSNR'] - ref[0]) < 1e-6
        assert abs(res[f'{name}/SSIM'] - ref[1]) < 1e-6
        assert abs(res[f'{name}/MAE'] - ref[2]) < 1e-6
        assert res[f'{name}/PSNR_capped_count'] == 0
    assert 10 < res['All/PSNR'] < 40 and 0 < res['All/SSIM'] < 1
    # per-image CSV carries the same per-image numbers
    with open(metric.saved_files[2]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 9
    assert abs(float(rows[4]['PSNR']) - ref_spn(samples[4])[0]) < 1e-9


def test_truncation_not_rounding():
    """pred 100.9 in the hole must count as 100 (official astype(uint8))."""

    def pred_fn(i, gt, mask, rng):
        return torch.full(gt.shape, 100.9)

    samples = make_samples(3, pred_fn=pred_fn)
    _, res = run_metric(samples, save_results=False)
    _, res_round = run_metric(samples, save_results=False, quantize='round')
    ref = np.mean([ref_spn(s)[0] for s in samples])
    assert abs(res['All/PSNR'] - ref) < 1e-6
    assert res_round['All/PSNR'] != res['All/PSNR']


def test_mmagic_compat_matches_mmagic_metrics():
    from mmagic.evaluation.metrics import MAE, PSNR, SSIM
    samples = make_samples(6, pred_fn=noisy_pred)
    _, res = run_metric(samples, compat='mmagic', save_results=False)
    refs = []
    for cls, kw in ((MAE, dict(mask_key='mask',
                               scaling=100)), (PSNR, {}), (SSIM, {})):
        m = cls(**kw)
        m.process(None, [dict(s, mask=s['mask'].clone()) for s in samples])
        m.size = len(samples)
        refs.append(list(m.evaluate().values())[0])
    assert abs(res['All/MAE'] - refs[0]) < 1e-6
    assert abs(res['All/PSNR'] - refs[1]) < 1e-6
    assert abs(res['All/SSIM'] - refs[2]) < 1e-6


def test_buckets_custom_edges_and_out_of_range():
    samples = make_samples(9, pred_fn=noisy_pred)
    _, res = run_metric(
        samples, bucket_edges=[0, 0.3, 0.45], save_results=False)
    n0, n1 = res['0.0-0.3/count'], res['0.3-0.45/count']
    ratios = [float(s['mask'].float().mean()) for s in samples]
    assert n0 == sum(r < 0.3 for r in ratios)
    assert n1 == sum(0.3 <= r <= 0.45 for r in ratios)
    assert res['out_of_range/count'] == sum(r > 0.45 for r in ratios) > 0
    assert n0 > 0 and n1 > 0
    assert n0 + n1 + res['out_of_range/count'] == res['All/count'] == 9


def test_results_saved_to_runner_log_dir(tmp_path):
    """Without output_dir, files go next to the runner's log file."""
    log_dir = tmp_path / 'work' / '20240101_000000'
    log_dir.mkdir(parents=True)
    MMLogger.get_instance(
        'spn_metric_test', log_file=str(log_dir / '20240101_000000.log'))
    try:
        samples = make_samples(6, pred_fn=noisy_pred)
        for s in samples:
            s['manifest_hash'] = 'ab' * 20
        metric, res = run_metric(samples, dataset_name='toy')
        assert res['manifest_hash'] == 'ab' * 20
        assert len(metric.saved_files) == 3
        for p in metric.saved_files:
            assert osp.dirname(p) == str(log_dir)
            assert 'abababab' in osp.basename(p)  # hash in every file name
        with open(metric.saved_files[0]) as f:
            summary = json.load(f)
        assert summary['manifest_hash'] == 'ab' * 20
        assert summary['metrics']['All/count'] == 6
        with open(metric.saved_files[1]) as f:
            rows = list(csv.reader(f))
        assert rows[0] == ['metric', '0.0-0.2', '0.2-0.4', '0.4-0.6', 'All']
        table = {r[0]: r[1:] for r in rows[1:]}
        assert table['count'] == ['2', '2', '2', '6']
        assert float(table['PSNR'][3]) == pytest.approx(
            res['All/PSNR'], abs=1e-4)
        # the printed table has metrics as rows and buckets as columns
        assert 'manifest=' + 'ab' * 20 in metric.last_table
        assert re.search(r'\|\s+PSNR\s+\|', metric.last_table)
        assert re.search(r'\|\s+Metric\s+\|\s+0.0-0.2\s+\|', metric.last_table)
    finally:
        logger = MMLogger.get_instance('spn_metric_test')
        for h in list(logger.handlers):
            if isinstance(h, logging.FileHandler):
                h.close()
                logger.removeHandler(h)


def test_prepare_rejects_drop_last():
    metric = METRICS.build(dict(type='SPNInpaintingMetric'))
    with pytest.raises(ValueError, match='drop_last'):
        metric.prepare(
            torch.nn.Module(),
            DataLoader(list(range(5)), batch_size=2, drop_last=True))


def test_bad_arguments():
    with pytest.raises(ValueError, match='compat'):
        METRICS.build(dict(type='SPNInpaintingMetric', compat='lama'))
    with pytest.raises(ValueError, match='quantize'):
        METRICS.build(dict(type='SPNInpaintingMetric', quantize=None))
    with pytest.raises(ValueError, match='fid_cfg'):
        METRICS.build(dict(type='SPNInpaintingMetric', fid_cfg=dict()))
    with pytest.raises(ValueError, match='fid_cfg'):
        METRICS.build(
            dict(type='SPNInpaintingMetric', fid_cfg=dict(smoke=1, x=2)))
    metric = METRICS.build(dict(type='SPNInpaintingMetric'))
    s = make_samples(1)[0]
    s['output']['pred_img'] = s['output']['pred_img'][:, :10]
    with pytest.raises(ValueError, match='pred_img'):
        metric.process(None, [s])


def pred_k(i, gt, mask, rng, k=3):
    return torch.stack([noisy_pred(i, gt, mask, rng) for _ in range(k)])


def test_pluralistic_best_of_k_mean_of_k_and_diversity(tmp_path):
    samples = make_samples(6, pred_fn=pred_k)
    metric, res = run_metric(
        samples, output_dir=str(tmp_path), lpips_cfg=dict(smoke=True))
    assert res['All/K'] == 3
    best_psnr, best_ssim, best_mae, mean_psnr = [], [], [], []
    for s in samples:
        vals = []
        for k in range(3):
            one = dict(s, output=dict(pred_img=s['output']['pred_img'][k]))
            vals.append(ref_spn(one)[:3])
        vals = np.array(vals)
        b = int(np.argmax(vals[:, 0]))
        best_psnr.append(vals[b, 0])
        best_ssim.append(vals[b, 1])  # SSIM of the max-PSNR sample
        best_mae.append(vals[b, 2])
        mean_psnr.append(vals[:, 0].mean())
    assert abs(res['All/PSNR'] - np.mean(best_psnr)) < 1e-6
    assert abs(res['All/SSIM'] - np.mean(best_ssim)) < 1e-6
    assert abs(res['All/MAE'] - np.mean(best_mae)) < 1e-6
    assert abs(res['All/PSNR_meanK'] - np.mean(mean_psnr)) < 1e-6
    assert res['All/PSNR'] > res['All/PSNR_meanK']
    assert res['All/LPIPS_div'] > 0
    assert np.isfinite(res['All/LPIPS_div_hole'])
    assert 'best-of-3 by PSNR' in metric.last_table
    with open(metric.saved_files[2]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows[0]['PSNR_all'].split()) == 3

    # identical samples -> zero diversity; same numbers on a re-run
    def same_k(i, gt, mask, rng):
        p = noisy_pred(i, gt, mask, rng)
        return torch.stack([p, p])

    s2 = make_samples(3, pred_fn=same_k)
    _, r1 = run_metric(s2, save_results=False, lpips_cfg=dict(smoke=True))
    _, r2 = run_metric(
        s2, save_results=False, lpips_cfg=dict(smoke=True), batch=1)
    assert abs(r1['All/LPIPS_div']) < 1e-6
    assert r1 == r2  # independent of the batch size


def test_fid_smoke_and_missing_weights(tmp_path):
    with pytest.raises(ValueError, match='inception_path'):
        METRICS.build(dict(type='SPNInpaintingMetric', fid_cfg=dict()))
    with pytest.raises(FileNotFoundError, match='no download'):
        METRICS.build(
            dict(
                type='SPNInpaintingMetric',
                fid_cfg=dict(inception_path=str(tmp_path / 'x.pth'))))
    metric = METRICS.build(
        dict(
            type='SPNInpaintingMetric',
            fid_cfg=dict(smoke=True),
            save_results=False))
    samples = make_samples(4)  # oracle: identical sets
    metric.process(None, samples)
    res = metric.evaluate(4)
    assert abs(res['All/FID']) < 1e-3
    assert res['All/FID_unreliable'] == 1  # 4 images < 2048 dims
    assert res['0.2-0.4/count'] == 1
    assert np.isnan(res['0.2-0.4/FID'])  # fewer than 2 images
    assert res['FID_meaningless'] == 1
    assert 'FID MEANINGLESS' in metric.last_table
    # noisy predictions are far from the references; K=2 adds FID_allK
    metric.results.clear()
    metric.process(None, make_samples(3, pred_fn=lambda *a: pred_k(*a, k=2)))
    res = metric.evaluate(3)
    assert res['All/FID'] > 1 and res['All/FID_allK'] > 1
    assert res['All/K'] == 2
