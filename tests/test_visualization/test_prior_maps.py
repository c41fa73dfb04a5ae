import cv2
import numpy as np
import pytest
import torch

from spn_mm.visualization import (canonical_labels, colorize_labels,
                                  kmeans_labels, kmeans_prior_map,
                                  kmeans_prior_maps)


def _regions(size):
    """(size, size) map with 4 irregular regions (labels 0..3)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    lab = (yy > 0.5 + 0.2 * np.sin(6 * xx)).astype(int) * 2
    lab += (xx > 0.3 + 0.3 * yy).astype(int)
    return lab


def _features(labels, channels, seed):
    """Well separated clusters: one random centre per region + small noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, size=(labels.max() + 1, channels))
    feat = centres[labels] + rng.normal(0, 0.05, labels.shape + (channels, ))
    return torch.from_numpy(feat.transpose(2, 0, 1).astype(np.float32))


def test_single_map_shape_dtype_and_determinism():
    feat = torch.randn(16, 24, 20)
    a = kmeans_prior_map(feat, k=8, seed=0)
    b = kmeans_prior_map(feat.numpy(), k=8, seed=0)
    assert a.shape == (24, 20, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    labels = kmeans_labels(feat)
    assert labels.shape == (24, 20) and labels[0, 0] == 0
    assert set(np.unique(labels)) <= set(range(8))


def test_official_palette():
    labels = np.arange(8).reshape(2, 4)
    levels = np.floor(labels / 8 * 255).astype(np.uint8)  # 0, 31, ..., 223
    expected = cv2.cvtColor(
        cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    assert np.array_equal(colorize_labels(labels, 8, 'jet'), expected)
    assert len({tuple(c) for c in expected.reshape(-1, 3)}) == 8


def test_canonical_labels_invariant_to_label_permutation():
    lab = np.array([[5, 5, 2], [7, 2, 5]])
    out = canonical_labels(lab)
    assert out.tolist() == [[0, 0, 1], [2, 1, 0]]
    assert np.array_equal(canonical_labels((lab * 3 + 1) % 11), out)


def test_recovers_regions_and_channel_permutation_gives_same_colours():
    truth = _regions(32)
    feat = _features(truth, 12, seed=0)
    labels = kmeans_labels(feat, k=4)
    assert np.array_equal(labels, canonical_labels(truth))
    # any random features: a channel-permuted copy clusters identically
    rand = torch.randn(16, 20, 20)
    perm = rand[torch.randperm(16, generator=torch.Generator().manual_seed(1))]
    assert np.array_equal(kmeans_prior_map(rand), kmeans_prior_map(perm))


def test_same_map_twice_gets_identical_colours():
    feat = torch.randn(8, 16, 16)
    ims = kmeans_prior_maps([feat, feat.clone()])
    assert np.array_equal(ims[0], ims[1])
    ims2 = kmeans_prior_maps([feat, feat[torch.randperm(8)]], match='first')
    assert np.array_equal(ims2[0], ims2[1])


def test_colours_consistent_across_channels_and_resolutions():
    truth = _regions(32)
    fine = _features(truth, 16, seed=0)
    coarse = _features(truth[::2, ::2], 7, seed=1)  # other channels & size
    coarser = _features(truth[::4, ::4], 30, seed=2)
    ims, labels = kmeans_prior_maps([fine, coarse, coarser],
                                    k=4,
                                    return_labels=True)
    assert [im.shape for im in ims] == [(32, 32, 3), (16, 16, 3), (8, 8, 3)]
    # the same region gets the same colour in every map of the figure
    assert np.array_equal(ims[1], ims[0][::2, ::2])
    assert np.array_equal(ims[2], ims[0][::4, ::4])
    assert np.array_equal(labels[2], labels[0][::4, ::4])
    # without matching the coarse maps keep their own canonical labels
    ims_first = kmeans_prior_maps([fine, coarse, coarser], k=4, match='first')
    assert np.array_equal(ims_first[2], ims[2])


def test_errors():
    with pytest.raises(ValueError, match='C, H, W'):
        kmeans_prior_map(torch.randn(2, 3, 4, 4, 4))
    with pytest.raises(ValueError, match='k must'):
        kmeans_prior_map(torch.randn(3, 2, 2), k=5)
    with pytest.raises(ValueError, match='match'):
        kmeans_prior_maps([torch.randn(3, 4, 4)], match='best')
    with pytest.raises(ValueError, match='init'):
        kmeans_prior_map(torch.randn(3, 4, 4), init='kmeans++')
    with pytest.raises(ValueError, match='colormap'):
        colorize_labels(np.zeros((2, 2), int), colormap='nope')
