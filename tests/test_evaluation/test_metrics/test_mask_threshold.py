"""mask_threshold: the compositing mask is the binarised mask the model saw
('model', default) or the raw mask file without threshold (None, official).
"""
import cv2
import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from spn_mm.registry import METRICS
from test_datasets.spn_data_fixtures import photo

SIZE = 64


def soft_mask_file(path: str) -> np.ndarray:
    """An anti-aliased mask (0..255 ramps around a square hole), written as
    a 3-channel PNG; returns the (H, W) uint8 file values."""
    m = np.zeros((SIZE, SIZE), np.float64)
    m[16:48, 12:44] = 255
    m = cv2.GaussianBlur(m, (9, 9), 3)
    m = np.round(m).astype(np.uint8)
    assert len(np.unique(m)) > 20  # really anti-aliased
    cv2.imwrite(path, np.stack([m] * 3, axis=2))
    return m


def sample(tmp_path):
    raw = soft_mask_file(str(tmp_path / 'soft.png'))
    seen = (raw > 127).astype(np.uint8)  # what SPNLoadPairedMask gives
    rgb = photo(0, (SIZE, SIZE))
    gt = torch.from_numpy(
        np.ascontiguousarray(rgb[..., ::-1].transpose(2, 0, 1)))
    pred = torch.full((3, SIZE, SIZE), 200.6)
    ds = dict(
        gt_img=gt,
        mask=torch.from_numpy(seen[None].copy()),
        output=dict(pred_img=pred),
        sample_idx=0,
        manifest_idx=0,
        mask_path=str(tmp_path / 'soft.png'),
        gt_path='img0.png')
    return ds, raw, seen, gt.numpy().transpose(1, 2, 0).astype(np.float64)


def official(gt_hwc, m01):
    """Official composite on [0, 1] images, (x * 255).astype(uint8)."""
    m = m01[..., None]
    comp01 = (200.6 / 255.) * m + (gt_hwc / 255.) * (1 - m)
    return (comp01 * 255).astype(np.uint8)


def scores(a, b):
    return (peak_signal_noise_ratio(b, a, data_range=255),
            structural_similarity(
                a, b, data_range=255, channel_axis=2, win_size=11))


@pytest.mark.parametrize('thr', ['model', None])
def test_compositing_mask(tmp_path, thr):
    ds, raw, seen, gt = sample(tmp_path)
    metric = METRICS.build(
        dict(
            type='SPNInpaintingMetric', save_results=False,
            mask_threshold=thr))
    metric.process(None, [ds])
    res = metric.evaluate(1)
    m01 = raw / 255. if thr is None else seen.astype(np.float64)
    want = scores(official(gt, m01), gt.astype(np.uint8))
    assert res['All/PSNR'] == pytest.approx(want[0], abs=1e-6)
    assert res['All/SSIM'] == pytest.approx(want[1], abs=1e-6)
    # the hole ratio (bucket) is the one of the mask the model saw
    assert res['0.2-0.4/count'] == 1 and abs(seen.mean() - 0.25) < 0.05


def test_raw_and_binarised_masks_differ_on_soft_masks_only(tmp_path):
    ds, _, seen, _ = sample(tmp_path)
    res = {}
    for thr in ('model', None):
        metric = METRICS.build(
            dict(
                type='SPNInpaintingMetric',
                save_results=False,
                mask_threshold=thr))
        metric.process(None, [ds])
        res[thr] = metric.evaluate(1)['All/PSNR']
    assert abs(res['model'] - res[None]) > 0.05
    # a binary 0/255 file: both definitions give the same numbers
    cv2.imwrite(ds['mask_path'], np.stack([seen * 255] * 3, axis=2))
    same = []
    for thr in ('model', None):
        metric = METRICS.build(
            dict(
                type='SPNInpaintingMetric',
                save_results=False,
                mask_threshold=thr))
        metric.process(None, [ds])
        r = metric.evaluate(1)
        same.append([r[f'All/{k}'] for k in ('PSNR', 'SSIM', 'MAE')])
    assert same[0] == same[1]


def test_bad_mask_threshold_and_missing_path(tmp_path):
    with pytest.raises(ValueError, match='mask_threshold'):
        METRICS.build(dict(type='SPNInpaintingMetric', mask_threshold=0.5))
    ds, _, _, _ = sample(tmp_path)
    ds['mask_path'] = None
    metric = METRICS.build(
        dict(
            type='SPNInpaintingMetric',
            save_results=False,
            mask_threshold=None))
    with pytest.raises(KeyError, match='mask_path'):
        metric.process(None, [ds])
