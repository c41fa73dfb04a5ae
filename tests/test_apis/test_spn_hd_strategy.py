import copy

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from spn_mm.apis import HDPlan, required_multiple
from spn_mm.registry import MODELS
from test_apis.spn_api_fixtures import TINY_DET, TINY_PROB, photo, rect_mask


@pytest.mark.parametrize('config,downsamples,multiple', [(TINY_DET, None, 4),
                                                         (TINY_PROB, None, 32),
                                                         (TINY_PROB, 2, 16)])
def test_required_multiple_from_model(config, downsamples, multiple):
    cfg = copy.deepcopy(Config.fromfile(config).model.encdec)
    if downsamples is not None:
        cfg.variational.num_downsamples = downsamples
    with torch.device('meta'):
        gen = MODELS.build(cfg)
    assert required_multiple(gen) == multiple


def _known_equal(result, image, mask):
    return (result[~mask] == image[~mask]).all()


def test_original_reflect_pads_and_pastes_back():
    img = photo(67, 93)
    mask = rect_mask(67, 93) > 0
    plan = HDPlan(img, mask, 32, 'original')
    assert plan.net_shape == (96, 96)
    assert plan.region == (0, 67, 0, 93)
    # reflect padding of image and mask
    np.testing.assert_array_equal(plan.net_image[:67, :93], img)
    np.testing.assert_array_equal(plan.net_image[67, :93], img[65])
    np.testing.assert_array_equal(plan.net_mask[:67, 93], mask[:, 91])
    out = np.full((96, 96, 3), 7.4, np.float32)
    res = plan.paste_back(img, out)
    assert res.shape == img.shape and res.dtype == np.uint8
    assert _known_equal(res, img, mask)
    assert (res[mask] == 7).all()


def test_original_pixel_guard_names_limit():
    img = photo(67, 93)
    mask = rect_mask(67, 93) > 0
    with pytest.raises(ValueError, match=r'max_pixels limit of 5,000'):
        HDPlan(img, mask, 4, 'original', max_pixels=5000)
    HDPlan(img, mask, 4, 'original', max_pixels=68 * 96)


def test_crop_region_margin_and_real_context():
    img = photo(333, 517)
    mask = np.zeros((333, 517), bool)
    mask[100:120, 200:230] = True
    plan = HDPlan(img, mask, 32, 'crop', crop_margin=10)
    y0, y1, x0, x1 = plan.region
    assert y0 <= 90 and y1 >= 130 and x0 <= 190 and x1 >= 240
    # grown with real pixels to the multiple: no padding needed
    assert (y1 - y0) % 32 == 0 and (x1 - x0) % 32 == 0
    np.testing.assert_array_equal(plan.net_image, img[y0:y1, x0:x1])
    res = plan.paste_back(img, np.zeros(plan.net_shape + (3, )))
    assert _known_equal(res, img, mask) and (res[mask] == 0).all()
    # the pixel guard applies to the crop only
    HDPlan(img, mask, 32, 'crop', crop_margin=10, max_pixels=64 * 64)


def test_crop_at_border_clips_and_pads():
    img = photo(50, 70)
    mask = np.zeros((50, 70), bool)
    mask[45:, 60:] = True
    plan = HDPlan(img, mask, 32, 'crop', crop_margin=100)
    assert plan.region == (0, 50, 0, 70)
    assert plan.net_shape == (64, 96)


def test_resize_shrinks_to_limit_conservatively():
    img = photo(333, 517)
    mask = np.zeros((333, 517), bool)
    mask[100:101, 200:203] = True  # tiny hole must survive the shrink
    plan = HDPlan(img, mask, 32, 'resize', resize_limit=128)
    h, w = plan.net_shape
    assert max(h, w) <= 128 and h % 32 == 0 and w % 32 == 0
    up = cv2.resize(
        plan.net_mask[:plan.scaled_shape[0], :plan.scaled_shape[1]].astype(
            np.uint8), (517, 333),
        interpolation=cv2.INTER_NEAREST).astype(bool)
    assert up[mask].all()
    res = plan.paste_back(img, np.zeros(plan.net_shape + (3, )))
    assert res.shape == img.shape and _known_equal(res, img, mask)
    # never enlarges: small images are only padded
    small = HDPlan(img[:40, :50], mask[:40, :50] | True, 4, 'resize')
    assert small.net_shape == (40, 52) and small.scaled_shape == (40, 50)


def test_bad_strategy():
    img = photo(8, 8)
    with pytest.raises(ValueError, match='hd_strategy must be one of'):
        HDPlan(img, np.ones((8, 8), bool), 4, 'tile')
