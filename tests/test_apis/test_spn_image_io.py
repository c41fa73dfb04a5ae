import numpy as np
import pytest
from PIL import Image

from spn_mm.apis import (SPNMaskWarning, binarize_mask, dilate_mask, load_mask,
                         read_image, write_image)
from test_apis.spn_api_fixtures import photo, rect_mask


def test_read_image_kinds(tmp_path):
    img = photo(31, 45)
    path = str(tmp_path / 'a.png')
    write_image(path, img)
    np.testing.assert_array_equal(read_image(path), img)
    np.testing.assert_array_equal(read_image(Image.fromarray(img)), img)
    out = read_image(img)
    np.testing.assert_array_equal(out, img)
    assert out is not img  # a copy
    rgba = np.concatenate(
        [img, np.full(img.shape[:2] + (1, ), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(read_image(rgba), img)
    grey = read_image(img[..., 0])
    assert grey.shape == img.shape and (grey[..., 2] == img[..., 0]).all()


def test_read_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='image: file not found'):
        read_image(str(tmp_path / 'missing.png'))
    bad = tmp_path / 'broken.png'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='image: cannot read'):
        read_image(str(bad))
    with pytest.raises(TypeError, match='uint8'):
        read_image(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        read_image(np.zeros((4, 4, 2), np.uint8))


def test_binarize_conventions():
    m = rect_mask(20, 30)
    holes = m > 0
    np.testing.assert_array_equal(binarize_mask(m, 'white'), holes)
    np.testing.assert_array_equal(binarize_mask(255 - m, 'black'), holes)
    # 0/1 and bool masks are scaled first
    np.testing.assert_array_equal(
        binarize_mask((m > 0).astype(np.uint8)), holes)
    np.testing.assert_array_equal(binarize_mask(holes), holes)
    np.testing.assert_array_equal(
        binarize_mask(holes.astype(np.float32)), holes)
    # colour masks: channel mean
    np.testing.assert_array_equal(
        binarize_mask(np.repeat(m[..., None], 3, axis=2)), holes)
    # alpha: transparent = hole
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 3] = 255 - m
    np.testing.assert_array_equal(binarize_mask(rgba, 'alpha'), holes)
    np.testing.assert_array_equal(
        binarize_mask(Image.fromarray(rgba), 'alpha'), holes)
    with pytest.raises(ValueError, match='alpha channel'):
        binarize_mask(m, 'alpha')
    with pytest.raises(ValueError, match='hole must be one of'):
        binarize_mask(m, 'grey')


def test_jpeg_mask_is_binarised(tmp_path):
    m = rect_mask(333, 517)
    path = str(tmp_path / 'mask.jpg')
    Image.fromarray(m).save(path, quality=70)
    raw = np.array(Image.open(path))
    assert len(np.unique(raw)) > 2  # JPEG really blurred the mask
    np.testing.assert_array_equal(load_mask(path), m > 0)


def test_load_mask_checks(tmp_path):
    m = rect_mask(20, 30)
    with pytest.raises(
            ValueError, match=r'mask size 30x20 .* image size '
            r'31x20'):
        load_mask(m, image_size=(20, 31))
    inverted = np.full((20, 30), 255, np.uint8)
    inverted[:2, :2] = 0
    with pytest.warns(SPNMaskWarning, match=r"looks inverted.*hole='black'"):
        load_mask(inverted)
    # no warning for a normal mask
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        load_mask(m)


def test_dilate():
    m = np.zeros((21, 21), bool)
    m[10, 10] = True
    assert dilate_mask(m, 0).sum() == 1
    d = dilate_mask(m, 3)
    assert d.sum() == 49 and d[7:14, 7:14].all()
    assert load_mask(m, dilate=2).sum() == 25
    with pytest.raises(ValueError, match='dilate'):
        dilate_mask(m, -1)
