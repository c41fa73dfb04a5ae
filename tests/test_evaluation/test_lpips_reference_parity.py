"""LPIPS and LPIPS diversity against ``lpips.LPIPS(net='alex')`` (issue 14).

torchvision's AlexNet weights cannot be downloaded here: one seeded random
AlexNet state dict is the project's ``backbone_path`` and the "pretrained"
trunk lpips builds through its own constructor (torchvision's ``alexnet`` as
lpips calls it returns that state dict). Both use lpips' bundled linear
weights.
"""
import itertools

import cv2
import numpy as np
import pytest
import torch
from reference_nets import (lpips_reference, photos, save_alexnet_state,
                            to_rgb01)

from spn_mm.evaluation import build_lpips
from spn_mm.evaluation.lpips_diversity import (lpips_hole_diversity,
                                               lpips_pairwise_diversity)


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('alex') / 'alexnet-random.pth')
    save_alexnet_state(path)
    return (build_lpips(backbone_path=path),
            build_lpips(backbone_path=path,
                        spatial=True), lpips_reference(path))


def photo_stack(h: int, w: int) -> torch.Tensor:
    """The six photos resized to (h, w): (6, 3, h, w) RGB in [0, 1]."""
    return torch.cat([
        to_rgb01(cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA))
        for p in photos()
    ])


@pytest.mark.parametrize('size', [(64, 64), (96, 160)])
def test_lpips_equals_reference_on_photo_pairs(models, size):
    ours, _, ref = models
    x = photo_stack(*size)
    a, b = x[[0, 1, 2, 3]], x[[1, 2, 5, 4]]
    with torch.no_grad():
        want = ref(a, b, normalize=True).flatten()
        got = ours(a, b, normalize=True).flatten()
    assert float(want.min()) > 0
    assert float((got - want).abs().max()) < 1e-5


def test_pairwise_diversity_equals_mean_reference_lpips(models):
    ours, _, ref = models
    x = photo_stack(64, 96)[:4]
    with torch.no_grad():
        pairs = [
            float(ref(x[i:i + 1], x[j:j + 1], normalize=True))
            for i, j in itertools.combinations(range(4), 2)
        ]
    assert len(pairs) == 6
    got = lpips_pairwise_diversity(ours, x)
    assert got == pytest.approx(np.mean(pairs), abs=1e-5)
    assert np.isnan(lpips_pairwise_diversity(ours, x[:1]))


def test_hole_diversity_is_the_masked_mean_of_lpips_spatial_map(models):
    """The hole score averages lpips' own spatial map (``spatial=True``,
    same weights) over hole pixels."""
    _, spatial, ref = models
    x = photo_stack(64, 64)[:3]
    mask = torch.zeros(64, 64)
    mask[10:40, 20:60] = 1
    ref.spatial = True
    try:
        with torch.no_grad():
            maps = [
                ref(x[i:i + 1], x[j:j + 1], normalize=True)[0, 0]
                for i, j in itertools.combinations(range(3), 2)
            ]
    finally:
        ref.spatial = False
    want = np.mean([float(m[mask > 0].mean()) for m in maps])
    assert lpips_hole_diversity(spatial, x, mask) == pytest.approx(
        want, abs=1e-5)
    with pytest.raises(ValueError, match='spatial'):
        lpips_hole_diversity(models[0], x, mask)
    with pytest.raises(ValueError, match='non-spatial'):
        lpips_pairwise_diversity(spatial, x)
