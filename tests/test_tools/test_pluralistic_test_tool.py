"""Issue 14: a probabilistic config through tools/test.py and dist_test.sh.

One reduced-width probabilistic SPN (random init saved by the test as an
mmengine checkpoint) is evaluated on a 3-pair manifest of real photo crops
(one pair per bucket) with K=2 seeded samples, FID (random FID-Inception
weights) and LPIPS (random AlexNet trunk). Three runs -- 1 process twice, 2
CPU processes once -- must print best-of-K, mean-of-K and diversity per
bucket with identical numbers and identical saved images; the saved images
are then re-scored with skimage, pytorch-fid and lpips.
"""
import csv
import itertools
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from reference_nets import (lpips_reference, pytorch_fid_inception,
                            save_alexnet_state, save_fid_inception_state)
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from test_datasets.spn_data_fixtures import photo, write_rgb
from utils import REPO_ROOT, TOOLS, free_port

CFG = osp.join(REPO_ROOT, 'tests', 'configs', 'spn_tiny_prob_eval.py')
SIZES = [20, 35, 45]  # square holes: ratios ~0.1, 0.3, 0.5 (one per bucket)


def make_data(root: str) -> dict:
    from spn_mm.datasets.manifest_utils import build_manifest, write_manifest
    names, mask_names = [], []
    for i, side in enumerate(SIZES):
        names.append(f'{i:03d}.png')
        write_rgb(osp.join(root, 'val', names[-1]), photo(i, (64, 64)))
        mask = np.zeros((64, 64), np.uint8)
        y, x = 4 + 2 * i, 60 - side - 3 * i
        mask[y:y + side, x:x + side] = 255
        mask_names.append(f'm{i:03d}.png')
        os.makedirs(osp.join(root, 'masks'), exist_ok=True)
        cv2.imwrite(osp.join(root, 'masks', mask_names[-1]), mask)
    header, records = build_manifest(
        osp.join(root, 'val'),
        names,
        osp.join(root, 'masks'),
        mask_names,
        size=(64, 64),
        seed=0,
        dataset='tiny_prob')
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    write_manifest(
        osp.join(root, 'meta', 'eval_manifest.jsonl'), header, records)
    return dict(root=root, records=records)


def save_random_checkpoint(path: str) -> None:
    """The config's model at random init, in mmengine's checkpoint format."""
    from mmengine.config import Config

    import spn_mm  # noqa: F401
    from spn_mm.registry import MODELS
    cfg = Config.fromfile(CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


def launch(tmp, name: str, opts: list, procs: int) -> subprocess.Popen:
    work = osp.join(tmp, name)
    args = [
        CFG,
        osp.join(tmp, 'rand.pth'), '--work-dir', work, '--out',
        osp.join(work, 'metrics.json'), '--save-images',
        osp.join(work, 'images'), '--cfg-options', *opts
    ]
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        PORT=str(free_port()),
        PYTHONPATH=os.pathsep.join([REPO_ROOT,
                                    osp.join(REPO_ROOT, 'tests')]))
    if procs == 1:
        cmd = [sys.executable, osp.join(TOOLS, 'test.py'), *args]
    else:
        cmd = [
            'bash',
            osp.join(TOOLS, 'dist_test.sh'), args[0], args[1],
            str(procs), *args[2:]
        ]
    os.makedirs(work, exist_ok=True)
    return subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('prob_test_tool'))
    data = make_data(osp.join(tmp, 'data'))
    fid_w = osp.join(tmp, 'pt_inception-random.pth')
    alex_w = osp.join(tmp, 'alexnet-random.pth')
    save_fid_inception_state(fid_w)
    save_alexnet_state(alex_w)
    save_random_checkpoint(osp.join(tmp, 'rand.pth'))
    opts = [
        f'test_dataloader.dataset.data_root={data["root"]}',
        f'test_dataloader.dataset.mask_root={osp.join(data["root"], "masks")}',
        f'test_evaluator.metrics.0.fid_cfg.inception_path={fid_w}',
        f'test_evaluator.metrics.0.lpips_cfg.backbone_path={alex_w}',
    ]
    # two single-process runs side by side (one core each), then 2 processes
    a, b = launch(tmp, 'one_a', opts, 1), launch(tmp, 'one_b', opts, 1)
    logs = dict(one_a=finish(a), one_b=finish(b))
    logs['two'] = finish(launch(tmp, 'two', opts, 2))
    res = {}
    for name, log in logs.items():
        with open(osp.join(tmp, name, 'metrics.json')) as f:
            res[name] = dict(
                metrics=json.load(f),
                log=log,
                images=osp.join(tmp, name, 'images'))
    return dict(res=res, data=data, fid_w=fid_w, alex_w=alex_w)


def same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    return x == y


def test_prints_best_mean_of_k_and_diversity_per_bucket(runs):
    r = runs['res']['one_a']
    m, log = r['metrics'], r['log']
    assert 'best-of-2 by PSNR' in log
    buckets = ['0.0-0.2', '0.2-0.4', '0.4-0.6', 'All']
    for b in buckets:
        assert m[f'{b}/count'] == (3 if b == 'All' else 1)
        assert m[f'{b}/K'] == 2
        assert m[f'{b}/PSNR'] >= m[f'{b}/PSNR_meanK']
        assert m[f'{b}/LPIPS_div'] > 0 and m[f'{b}/LPIPS_div_hole'] > 0
        assert m[f'{b}/FID_unreliable'] == 1
    assert math.isfinite(m['All/FID'])  # NaN for a 1-image bucket
    table = log[log.index('best-of-2 by PSNR'):]
    header = next(line for line in table.splitlines() if 'Metric' in line)
    assert all(b in header for b in buckets)
    for row in ('PSNR', 'PSNR_meanK', 'SSIM_meanK', 'LPIPS_div',
                'LPIPS_div_hole', 'FID', 'FID_allK'):
        assert re.search(rf'\|\s*{row}\s*\|', table), row


def test_identical_with_one_and_two_processes_and_between_runs(runs):
    res = runs['res']
    assert 'world_size=2' in res['two']['log']
    ref = res['one_a']['metrics']
    for name in ('one_b', 'two'):
        m = res[name]['metrics']
        assert m.keys() == ref.keys()
        diff = [k for k in m if not same(m[k], ref[k])]
        assert not diff, (name, {k: (ref[k], m[k]) for k in diff})
    files = sorted(
        osp.relpath(osp.join(d, f), res['one_a']['images'])
        for d, _, fs in os.walk(res['one_a']['images']) for f in fs)
    assert len([f for f in files if f.startswith('samples')]) == 6
    for name in ('one_b', 'two'):
        for f in files:
            with open(osp.join(res['one_a']['images'], f), 'rb') as fa, \
                    open(osp.join(res[name]['images'], f), 'rb') as fb:
                assert fa.read() == fb.read(), (name, f)


def read_rgb(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1]


def test_saved_images_rescore_to_the_reported_numbers(runs):
    """skimage on pred/ vs gt/, pytorch-fid on the folders and lpips on the
    samples give the metric's numbers; pred is gt outside the mask."""
    img_dir = runs['res']['one_a']['images']
    m = runs['res']['one_a']['metrics']
    with open(osp.join(img_dir, 'README.txt')) as f:
        readme = f.read()
    assert 'binarised mask the model saw' in readme
    assert 'truncation' in readme
    with open(osp.join(img_dir, 'per_image.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [int(r['manifest_idx']) for r in rows] == list(range(3))
    lp = lpips_reference(runs['alex_w'])
    psnr, divs = [], []
    for r in rows:
        key = f'{int(r["manifest_idx"]):06d}'
        gt = read_rgb(osp.join(img_dir, 'gt', key + '.png'))
        pred = read_rgb(osp.join(img_dir, 'pred', key + '.png'))
        mask = cv2.imread(osp.join(img_dir, 'mask', key + '.png'), 0) > 127
        # the ground truth as scored is the dataset image (64x64 already)
        src = read_rgb(
            osp.join(runs['data']['root'], 'val',
                     runs['data']['records'][int(r['manifest_idx'])]['img']))
        assert np.array_equal(gt, src)
        assert np.array_equal(pred[~mask], gt[~mask])
        assert abs(mask.mean() - float(r['hole_ratio'])) < 1e-6  # 6 decimals
        p = peak_signal_noise_ratio(gt, pred, data_range=255)
        s = structural_similarity(
            pred, gt, data_range=255, channel_axis=2, win_size=11)
        l1 = np.mean(np.abs(pred.mean(2) - gt.mean(2))) / 255
        assert p == pytest.approx(float(r['PSNR']), abs=1e-6)
        assert s == pytest.approx(float(r['SSIM']), abs=1e-6)
        assert l1 == pytest.approx(float(r['MAE']), abs=1e-8)
        ks = [
            read_rgb(osp.join(img_dir, 'samples', f'{key}_k{j}.png'))
            for j in range(2)
        ]
        assert np.array_equal(ks[int(r['best'])], pred)
        all_psnr = [float(v) for v in r['PSNR_all'].split()]
        for k_img, want in zip(ks, all_psnr):
            assert peak_signal_noise_ratio(gt, k_img, data_range=255) == \
                pytest.approx(want, abs=1e-6)
        x = torch.from_numpy(np.stack(ks)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            d = [
                float(lp(x[i:i + 1], x[j:j + 1], normalize=True))
                for i, j in itertools.combinations(range(2), 2)
            ]
        assert float(r['LPIPS_div']) == pytest.approx(np.mean(d), abs=1e-5)
        psnr.append(p)
        divs.append(np.mean(d))
    assert m['All/PSNR'] == pytest.approx(np.mean(psnr), abs=1e-6)
    assert m['All/LPIPS_div'] == pytest.approx(np.mean(divs), abs=1e-5)

    # FID of gt/ vs pred/ with pytorch-fid's own activations; its sqrtm in
    # the span of the (centred) activations, an isometry (see
    # test_fid_pytorch_fid_parity.py)
    from pytorch_fid.fid_score import (calculate_frechet_distance,
                                       get_activations)
    net = pytorch_fid_inception(runs['fid_w'])
    acts = [
        get_activations(
            sorted(
                osp.join(img_dir, sub, f)
                for f in os.listdir(osp.join(img_dir, sub))),
            net,
            batch_size=3,
            dims=2048,
            device='cpu',
            num_workers=0).astype(np.float64) for sub in ('gt', 'pred')
    ]
    centre = np.concatenate(acts).mean(0)
    _, sv, vt = np.linalg.svd(
        np.concatenate(acts) - centre, full_matrices=False)
    basis = vt[sv > sv[0] * 1e-10]
    a1, a2 = [(a - centre) @ basis.T for a in acts]
    want = calculate_frechet_distance(
        a1.mean(0), np.cov(a1, rowvar=False), a2.mean(0),
        np.cov(a2, rowvar=False))
    assert m['All/FID'] == pytest.approx(want, rel=1e-4, abs=1e-6)
