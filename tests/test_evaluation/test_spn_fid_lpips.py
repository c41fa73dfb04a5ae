import os.path as osp

import numpy as np
import pytest
import torch

from spn_mm.evaluation import (SPNFIDInception, build_lpips, frechet_distance,
                               frechet_distance_from_features,
                               lpips_hole_diversity)
from spn_mm.registry import METRICS


def test_frechet_distance_closed_form_diagonal():
    rng = np.random.default_rng(0)
    d = 16
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    ref = np.sum((mu1 - mu2)**2) + np.sum(a + b - 2 * np.sqrt(a * b))
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert abs(got - ref) < 1e-9
    assert abs(frechet_distance(mu1, np.diag(a), mu1, np.diag(a))) < 1e-9


def test_frechet_from_features_known_covariances():
    """Samples drawn with known diagonal covariances approach the closed
    form, and both code paths (sqrtm and the low-rank Gram path) agree."""
    rng = np.random.default_rng(1)
    d = 8
    a, b = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    f1 = mu1 + rng.normal(size=(20000, d)) * np.sqrt(a)
    f2 = mu2 + rng.normal(size=(20000, d)) * np.sqrt(b)
    ref = np.sum((mu1 - mu2)**2) + np.sum(a + b - 2 * np.sqrt(a * b))
    got = frechet_distance_from_features(f1, f2)
    assert abs(got - ref) < 0.05 * ref
    # exact agreement with the covariance form on the same samples
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    assert abs(got - frechet_distance(f1.mean(0), s1, f2.mean(0), s2)) < 1e-8
    # N <= D: Gram path equals the (regularised) sqrtm path
    g1, g2 = rng.normal(size=(10, 32)), rng.normal(size=(12, 32)) + 0.3
    gram = frechet_distance_from_features(g1, g2)
    dense = frechet_distance(
        g1.mean(0), np.cov(g1, rowvar=False), g2.mean(0),
        np.cov(g2, rowvar=False))
    assert abs(gram - dense) < 1e-4 * abs(dense)
    assert abs(frechet_distance_from_features(g1, g1)) < 1e-9
    assert np.isnan(frechet_distance_from_features(g1[:1], g2))


def test_inception_missing_weights_and_smoke():
    with pytest.raises(ValueError, match='inception_path'):
        SPNFIDInception(None)
    with pytest.raises(FileNotFoundError, match='no download'):
        SPNFIDInception('/nonexistent/pt_inception.pth')
    net = SPNFIDInception(None, smoke=True)
    x = torch.rand(2, 3, 64, 48)
    f = net(x)
    assert f.shape == (2, 2048) and f.dtype == torch.float32
    # input-dependent, non-vanishing features (BN calibrated once)
    assert float(f.std(0).mean()) > 1e-2
    assert net.weights_sha1 == 'random-smoke'


@pytest.fixture(scope='module')
def fake_fid_weights(tmp_path_factory):
    """A state dict in pytorch-fid's layout (random values)."""
    from mmagic.evaluation.functional.fid_inception import fid_inception_v3
    torch.manual_seed(1)
    net = fid_inception_v3(load_ckpt=False)
    state = {
        k: v
        for k, v in net.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    path = str(tmp_path_factory.mktemp('w') / 'pt_inception-fake.pth')
    torch.save(state, path)
    return path, state


def test_inception_loads_local_pytorch_fid_layout(fake_fid_weights, tmp_path):
    path, state = fake_fid_weights
    net = SPNFIDInception(path)
    assert torch.equal(net.features[0].conv.weight,
                       state['Conv2d_1a_3x3.conv.weight'])
    assert torch.equal(net.features[17].branch_pool.conv.weight,
                       state['Mixed_7c.branch_pool.conv.weight'])
    assert len(net.weights_sha1) == 40
    bad = str(tmp_path / 'bad.pth')
    torch.save({'conv.weight': torch.zeros(1)}, bad)
    with pytest.raises(RuntimeError, match='pytorch-fid'):
        SPNFIDInception(bad)


def test_reference_features_cached(fake_fid_weights, tmp_path):
    from test_metrics.test_spn_inpainting_metric import make_samples, \
        noisy_pred
    path, _ = fake_fid_weights
    samples = make_samples(3, pred_fn=noisy_pred)
    meta = dict(dataset_name='toy', manifest_hash='cd' * 20)
    cfg = dict(
        type='SPNInpaintingMetric',
        save_results=False,
        fid_cfg=dict(inception_path=path, cache_dir=str(tmp_path)))

    def run():
        metric = METRICS.build(cfg)
        metric.dataset_meta = meta
        metric.process(None, samples)
        return metric, metric.evaluate(len(samples))

    m1, r1 = run()
    cached = [p for p in tmp_path.iterdir() if p.suffix == '.npz']
    assert len(cached) == 1
    name = cached[0].name
    assert 'toy' in name and 'cdcdcdcdcdcdcdcd' in name
    assert m1.inception.weights_sha1[:16] in name
    m2, r2 = run()
    assert m2._real_cache is not None and len(m2._real_cache) == 3
    assert r1['All/FID'] == r2['All/FID']
    assert 'FID_meaningless' not in r1


def test_lpips_local_weights_and_diversity(tmp_path):
    import torchvision
    with pytest.raises(ValueError, match='backbone_path'):
        build_lpips()
    with pytest.raises(FileNotFoundError, match='no download'):
        build_lpips(backbone_path=str(tmp_path / 'none.pth'))
    torch.manual_seed(0)
    alex = torchvision.models.alexnet(weights=None)
    path = str(tmp_path / 'alexnet.pth')
    torch.save(alex.state_dict(), path)
    model = build_lpips(backbone_path=path, spatial=True)
    assert torch.equal(model.net.slice1[0].weight, alex.features[0].weight)
    assert torch.equal(
        getattr(model.net.slice5, '10').weight, alex.features[10].weight)
    # linear layers come from lpips' bundled file (non-negative weights)
    assert float(model.lin0.model[-1].weight.min()) >= 0
    x = torch.rand(3, 3, 32, 32)
    mask = torch.zeros(32, 32)
    mask[8:24, 8:24] = 1
    div = lpips_hole_diversity(model, x, mask)
    assert div > 0
    assert lpips_hole_diversity(model, x[[0, 0]], mask) == pytest.approx(
        0, abs=1e-7)
    assert np.isnan(lpips_hole_diversity(model, x, torch.zeros(32, 32)))
    assert osp.isfile(path)
