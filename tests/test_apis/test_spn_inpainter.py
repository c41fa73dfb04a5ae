import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from spn_mm.apis import SPNInpainter, SPNMaskWarning
from spn_mm.apis.inpainter import flush_denormal
from test_apis.spn_api_fixtures import (TINY_DET, TINY_PROB,
                                        make_tiny_checkpoint, photo, rect_mask)


@pytest.fixture(scope='module')
def det(tmp_path_factory):
    ckpt = make_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'det.pth'), 'det', seed=0)
    return SPNInpainter(TINY_DET, ckpt, crop_margin=24, resize_limit=160)


@pytest.fixture(scope='module')
def prob(tmp_path_factory):
    ckpt = make_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'prob.pth'), 'prob', seed=0)
    return SPNInpainter(TINY_PROB, ckpt, crop_margin=24, resize_limit=160)


def _check(result, image, holes):
    assert result.shape == image.shape and result.dtype == np.uint8
    np.testing.assert_array_equal(result[~holes], image[~holes])
    # the network really filled the hole
    assert (result[holes] != image[holes]).any(axis=-1).mean() > 0.5


def test_multiples_from_model(det, prob):
    assert det.multiple == 4 and not det.is_probabilistic
    assert prob.multiple == 32 and prob.is_probabilistic
    assert det.load_report['loaded']


@pytest.mark.parametrize('strategy', ['original', 'crop', 'resize'])
def test_odd_size_photo_each_strategy(det, strategy):
    img = photo(333, 517)
    mask = rect_mask(333, 517, (0.35, 0.55, 0.45, 0.6))
    result = det.inpaint(img, mask, hd_strategy=strategy)
    _check(result, img, mask > 0)


@pytest.mark.parametrize('strategy', ['original', 'crop', 'resize'])
def test_odd_size_prob_each_strategy(prob, strategy):
    img = photo(67, 93, 'chelsea')
    mask = rect_mask(67, 93)
    result = prob.inpaint(img, mask, hd_strategy=strategy, seed=0)
    _check(result, img, mask > 0)


def test_prob_333x517_original(prob):
    img = photo(333, 517, 'astronaut')
    mask = rect_mask(333, 517, (0.1, 0.3, 0.6, 0.8))
    out = prob.inpaint(img, mask, num_samples=2, seed=1)
    assert out.shape == (2, 333, 517, 3)
    for k in range(2):
        _check(out[k], img, mask > 0)


def test_matches_generator_forward(det):
    """Hole pixels = the generator's own output on the same tensors."""
    img = photo(64, 64)
    mask = rect_mask(64, 64)
    holes = mask > 0
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    m = torch.from_numpy(holes.astype(np.float32))[None, None]
    with torch.no_grad(), flush_denormal(torch.device('cpu')):
        ref = det.generator.forward_test(x * (1 - m), m)
    ref = ((ref[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).numpy()
    ref = np.clip(np.rint(ref), 0, 255).astype(np.uint8)
    out = det.inpaint(img, mask)
    np.testing.assert_array_equal(out[holes], ref[holes])


def test_inputs_path_pil_and_alpha(det, tmp_path):
    img = photo(41, 59)
    mask = rect_mask(41, 59)
    ref = det.inpaint(img, mask)
    Image.fromarray(img).save(tmp_path / 'img.png')
    Image.fromarray(mask).save(tmp_path / 'mask.png')
    np.testing.assert_array_equal(
        det.inpaint(str(tmp_path / 'img.png'), str(tmp_path / 'mask.png')),
        ref)
    np.testing.assert_array_equal(
        det.inpaint(
            Image.fromarray(img), Image.fromarray(255 - mask), hole='black'),
        ref)
    rgba = np.concatenate([img, (255 - mask)[..., None]], axis=2)
    Image.fromarray(rgba).save(tmp_path / 'cut.png')
    np.testing.assert_array_equal(
        det.inpaint(str(tmp_path / 'cut.png'), hole='alpha'), ref)
    with pytest.raises(ValueError, match='no mask given'):
        det.inpaint(img)


def test_batching_lists_equals_single_calls(prob):
    imgs = [photo(40, 60), photo(40, 60, 'chelsea'), photo(70, 50)]
    masks = [
        rect_mask(40, 60),
        rect_mask(40, 60, (0.1, 0.5, 0.1, 0.5)),
        rect_mask(70, 50)
    ]
    outs = prob.inpaint(imgs, masks, seed=5)
    assert isinstance(outs, list) and len(outs) == 3
    for i, (img, mask) in enumerate(zip(imgs, masks)):
        np.testing.assert_array_equal(outs[i],
                                      prob.inpaint(img, mask, seed=5 + i))
    # a single mask is shared by all images of a list
    shared = prob.inpaint(imgs[:2], masks[0], seed=5)
    np.testing.assert_array_equal(shared[0], outs[0])
    with pytest.raises(ValueError, match='one mask per image'):
        prob.inpaint(imgs, masks[:2])


def test_seeds_reproducible_and_diverse(prob):
    img = photo(64, 96)
    mask = rect_mask(64, 96)
    holes = mask > 0
    a = prob.inpaint(img, mask, num_samples=3, seed=7)
    b = prob.inpaint(img, mask, num_samples=3, seed=7)
    c = prob.inpaint(img, mask, num_samples=3, seed=8)
    assert a.shape == (3, 64, 96, 3)
    np.testing.assert_array_equal(a, b)
    assert (a[:, holes] != c[:, holes]).any()
    assert (a[0][holes] != a[1][holes]).any()  # samples differ
    # sample 0 does not depend on how many samples are drawn
    np.testing.assert_array_equal(prob.inpaint(img, mask, seed=7), a[0])
    mean1 = prob.inpaint(img, mask, sample='mean')
    mean2 = prob.inpaint(img, mask, sample='mean', seed=3)
    np.testing.assert_array_equal(mean1, mean2)


def test_det_samples_identical_with_warning(det):
    img, mask = photo(32, 32), rect_mask(32, 32)
    with pytest.warns(UserWarning, match='deterministic'):
        out = det.inpaint(img, mask, num_samples=2)
    np.testing.assert_array_equal(out[0], out[1])


def test_empty_mask_returns_input(det):
    img = photo(33, 47)
    with pytest.warns(SPNMaskWarning, match='no hole pixels'):
        out = det.inpaint(img, np.zeros((33, 47), np.uint8))
    np.testing.assert_array_equal(out, img)
    with pytest.warns(UserWarning) as record:
        outs = det.inpaint([img], np.zeros((33, 47), np.uint8), num_samples=2)
    assert any(r.category is SPNMaskWarning for r in record)
    assert outs[0].shape == (2, 33, 47, 3)
    np.testing.assert_array_equal(outs[0][1], img)


def test_inverted_and_mismatched_masks(det):
    img = photo(33, 47)
    inverted = 255 - rect_mask(33, 47, (0.4, 0.5, 0.4, 0.5))
    with pytest.warns(SPNMaskWarning, match='looks inverted'):
        out = det.inpaint(img, inverted)
    assert out.shape == img.shape
    with pytest.raises(ValueError, match='does not match the image size'):
        det.inpaint(img, rect_mask(33, 48))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        det.inpaint(img, rect_mask(33, 47))


def test_max_pixels_guard(det):
    img = photo(67, 93)
    guarded = SPNInpainter.__new__(SPNInpainter)
    guarded.__dict__.update(det.__dict__)
    guarded.max_pixels = 1000
    with pytest.raises(ValueError, match='max_pixels limit of 1,000'):
        guarded.inpaint(img, rect_mask(67, 93))
    out = guarded.inpaint(img, rect_mask(67, 93), hd_strategy='resize')
    assert out.shape == img.shape


def test_extract_features(prob):
    img = photo(64, 96)
    feats = prob.extract_features(
        img, rect_mask(64, 96), num_samples=2, seed=4)
    assert feats['num_samples'] == 2
    assert [tuple(p.shape) for p in feats['priors'][1]] == [(1, 8, 64, 96),
                                                            (1, 16, 32, 48),
                                                            (1, 32, 16, 24)]
    assert tuple(feats['feat_enc'].shape) == (1, 32, 16, 24)
    assert tuple(feats['feat_dec'][0].shape) == (1, 32, 16, 24)
    ref = prob.inpaint(img, rect_mask(64, 96), num_samples=2, seed=4)
    for k in range(2):
        np.testing.assert_array_equal(feats['outputs'][k], ref[k])


def test_low_memory_path_used_and_equal(det, monkeypatch):
    """low_memory=None switches on above 512x512 network pixels; True runs
    SPNGenerator.forward_test(low_memory=True), with the same result."""
    assert det.low_memory is None
    assert not det.uses_low_memory((512, 512))
    assert det.uses_low_memory((516, 512))
    with pytest.raises(ValueError, match='low_memory'):
        SPNInpainter(TINY_DET, None, low_memory='yes')
    img = photo(67, 93)
    mask = rect_mask(67, 93)
    ref = det.inpaint(img, mask)
    seen = []
    forward_test = det.generator.forward_test

    def spy(*args, **kwargs):
        seen.append(kwargs.get('low_memory'))
        return forward_test(*args, **kwargs)

    monkeypatch.setattr(det.generator, 'forward_test', spy)
    monkeypatch.setattr(det, 'low_memory', True)
    low = det.inpaint(img, mask)
    assert seen and all(seen)
    # equal up to float32 rounding: at most 1 grey level after rint
    assert np.abs(low.astype(int) - ref.astype(int)).max() <= 1
