"""The main job on the embedded demo data, shortened (few iterations)."""
import json
import os.path as osp


import cv2
import numpy as np
import pytest
import skimage.data as skd
from utils import REPO_ROOT, load_script, run_tool

DEMO_CFG = osp.join(REPO_ROOT, 'configs', 'spn_demo.py')


def load_prepare():
    """tools/prepare_demo_data.py as a module (its photo lists)."""
    return load_script('tools/prepare_demo_data.py', 'prepare_demo_data')


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
    assert info['num_train'] == 10 * 4 and info['num_val'] == 3 * 4
    assert not set(info['train_photos']) & set(info['val_photos'])
    # the stereo pair is one scene: both halves on the val side
    assert {'motorcycle_left', 'motorcycle_right'} <= set(info['val_photos'])
    proc = run_tool('prepare_demo_data.py', ['--out', demo_data,
                                             '--train-per-photo', '4',
                                             '--val-per-side', '2'])
    assert 'up to date' in proc.stdout


def patch_hashes(img: np.ndarray, k: int = 8) -> set:
    """Hashes of every k x k patch of an RGB uint8 photo (exact pixels, a
    random linear hash mod 2**64); flat patches (grey range <= 16, e.g. a
    black sky) are left out: they match anything flat."""
    rng = np.random.default_rng(0)
    wx = rng.integers(1, 2**62, (k, 3), dtype=np.uint64) | np.uint64(1)
    wy = rng.integers(1, 2**62, k, dtype=np.uint64) | np.uint64(1)
    img64 = img.astype(np.uint64)
    h, w = img.shape[0] - k + 1, img.shape[1] - k + 1
    rows = np.zeros((img.shape[0], w), np.uint64)
    for dx in range(k):
        rows += (img64[:, dx:dx + w] * wx[dx]).sum(-1, dtype=np.uint64)
    acc = np.zeros((h, w), np.uint64)
    for dy in range(k):
        acc += rows[dy:dy + h] * wy[dy]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    kernel = np.ones((k, k), np.uint8)
    spread = (cv2.dilate(grey, kernel, anchor=(0, 0)).astype(int) -
              cv2.erode(grey, kernel, anchor=(0, 0)))[:h, :w]
    return set(acc[spread > 16].tolist())


def thumb(img: np.ndarray) -> np.ndarray:
    t = cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (32, 32),
                   interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
    return (t - t.mean()) / (t.std() + 1e-9)


def test_train_and_val_photos_are_pixel_disjoint():
    """No 8x8 patch of a val photo occurs in a train photo, and no train
    photo is a rescaled val photo (skimage.data.cat() is chelsea())."""
    prep = load_prepare()
    val = {n: prep.load_photo(n) for n in prep.VAL_PHOTOS}
    val_hashes = set().union(*(patch_hashes(v) for v in val.values()))
    # the check itself sees an alias and a crop of a val photo
    cat = prep.load_photo('cat') if hasattr(skd, 'cat') else val['chelsea']
    assert patch_hashes(cat[40:200, 60:260]) & val_hashes
    for name in prep.TRAIN_PHOTOS:
        img = prep.load_photo(name)
        assert not patch_hashes(img) & val_hashes, name
        for vname, v in val.items():
            corr = float(np.mean(thumb(img) * thumb(v)))
            assert corr < 0.9, (name, vname, corr)
    assert not set(prep.TRAIN_PHOTOS) & set(prep.VAL_PHOTOS)


def test_short_demo_train_and_report(demo_data, tmp_path):
    work = str(tmp_path / 'work')
    run_tool('train.py', [DEMO_CFG, '--work-dir', work, '--cfg-options',
                          *demo_options(demo_data), 'train_cfg.max_iters=4',
                          'train_cfg.val_interval=1000',
                          'default_hooks.logger.interval=2',
                          'train_dataloader.batch_size=2'])
    ckpt = osp.join(work, 'iter_4.pth')
    assert osp.isfile(ckpt)
    # (tools/test.py on the demo config: test_metric_through_test_tool.py)
    # the comparison report (trained / untrained / mean fill / Telea / NS)
    cfg_copy = tmp_path / 'demo_cfg.py'
    cfg_copy.write_text(
        f"_base_ = ['{DEMO_CFG}']\ndata_root = '{demo_data}'\n"
        f"test_dataloader = dict(dataset=dict(data_root='{demo_data}'))\n")
    report = str(tmp_path / 'report')
    proc = run_tool(osp.join('analysis', 'demo_report.py'),
                    [str(cfg_copy), ckpt, '--out', report, '--work-dir',
                     work, '--command', 'make demo'])
    with open(osp.join(report, 'demo_report.json')) as f:
        rep = json.load(f)
    table = rep['table']
    assert set(table) == {'trained', 'untrained', 'mean_fill', 'telea',
                          'ns'}
    assert rep['num_pairs'] == 12
    for method, row in table.items():
        assert 'All' in row and row['All']['N'] == 12
        assert sum(v['N'] for b, v in row.items() if b != 'All') == 12
        for cell in row.values():
            # no local LPIPS weights given: no LPIPS column
            assert set(cell) == {'PSNR', 'SSIM', 'MAE', 'N'}, cell
            assert 0 <= cell['SSIM'] <= 1 and 0 <= cell['MAE'] <= 1
    # independent reference for one cell: cv2.INPAINT_NS + skimage PSNR
    ref = ns_psnr_reference(demo_data)
    assert abs(table['ns']['All']['PSNR'] - ref) < 1e-6, (
        table['ns']['All']['PSNR'], ref)
    assert set(rep['goal']) >= {'All', 'met'}
    for name in ('demo_grid.png', 'loss_curve.png', 'index.html',
                 'demo_report.md'):
        assert osp.isfile(osp.join(report, name)), name
    grid = cv2.imread(osp.join(report, 'demo_grid.png'))
    assert grid is not None and grid.shape[0] > 100
    with open(osp.join(report, 'index.html')) as f:
        page = f.read()
    assert 'make demo' in page and 'demo_grid.png' in page
    assert 'loss_curve.png' in page and '<table>' in page
    assert 'report: ' in proc.stdout


def ns_psnr_reference(root: str) -> float:
    """Mean full-image PSNR of Navier-Stokes inpainting over the manifest,
    from the files (cv2 + skimage, not the project's scoring code)."""
    from skimage.metrics import peak_signal_noise_ratio
    vals = []
    with open(osp.join(root, 'meta', 'eval_manifest.jsonl')) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    for rec in lines:
        if 'img' not in rec:
            continue
        gt = cv2.imread(osp.join(root, 'val', rec['img']))
        hole = cv2.imread(osp.join(root, 'val_masks', rec['mask']), 0) > 127
        masked = gt.copy()
        masked[hole] = 0
        out = cv2.inpaint(masked, hole.astype(np.uint8) * 255, 3,
                          cv2.INPAINT_NS)
        out[~hole] = gt[~hole]
        vals.append(peak_signal_noise_ratio(gt, out, data_range=255))
    assert len(vals) == 12
    return float(np.mean(vals))
