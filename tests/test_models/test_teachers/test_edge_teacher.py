import pytest
import torch
import torch.nn as nn

from spn_mm.models.teachers import EdgeTeacher
from spn_mm.registry import MODELS


def _step_image(size: int = 32) -> torch.Tensor:
    """A vertical step: left half black, right half white, in [-1, 1]."""
    img = -torch.ones(1, 3, size, size)
    img[..., size // 2:] = 1
    return img


def test_shapes_channels_and_frozen():
    t = MODELS.build(dict(type='EdgeTeacher'))
    outs = t(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert [tuple(o.shape) for o in outs] == [(2, 1, 32, 32), (2, 1, 16, 16),
                                              (2, 1, 8, 8)]
    assert t.out_channels == [1, 1, 1]
    assert all(set(o.unique().tolist()) <= {0.0, 1.0} for o in outs)
    t2 = EdgeTeacher(mode='sobel', return_xy=True, num_scales=2)
    outs2 = t2(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert [tuple(o.shape) for o in outs2] == [(1, 3, 16, 16), (1, 3, 8, 8)]
    assert t2.out_channels == [3, 3]
    holder = nn.Module()
    holder.teacher = t
    holder.train()
    assert not t.training
    assert holder.state_dict() == {}


def test_sobel_values_on_a_step():
    t = EdgeTeacher(
        mode='sobel', sigma=0, return_xy=True, num_levels=1, upsample_factor=1)
    out = t(_step_image(16))[0][0]
    mag, gx, gy = out
    # a unit step gives 0.5 on the two columns next to it, 0 elsewhere
    assert torch.allclose(mag[:, 7], torch.full((16, ), 0.5))
    assert torch.allclose(mag[:, 8], torch.full((16, ), 0.5))
    assert mag[:, :7].abs().max() == 0 and mag[:, 9:].abs().max() == 0
    assert (gx[:, 7:9] > 0).all()  # intensity grows to the right
    assert gy.abs().max() == 0


def test_with_color_appends_the_area_resized_rgb():
    """``with_color``: after the edge channel, each level holds the image's
    mean colour over the level's pixel footprint ([0, 1]), here checked
    against 2x2 / 4x4 block means computed with numpy."""
    import numpy as np
    img = torch.rand(2, 3, 16, 16) * 2 - 1  # [-1, 1], as the inpaintor feeds
    plain = EdgeTeacher(num_levels=3, upsample_factor=1)
    t = EdgeTeacher(num_levels=3, upsample_factor=1, with_color=True)
    assert t.out_channels == [4, 4, 4]
    outs, edges = t(img), plain(img)
    rgb = ((img + 1) / 2).numpy()
    for level, (out, edge) in enumerate(zip(outs, edges)):
        k = 2**level
        blocks = rgb.reshape(2, 3, 16 // k, k, 16 // k, k).mean(axis=(3, 5))
        assert out.shape == (2, 4, 16 // k, 16 // k)
        assert torch.equal(out[:, :1], edge)
        np.testing.assert_allclose(out[:, 1:].numpy(), blocks, atol=1e-6)


def test_canny_thin_edge_at_the_step():
    t = EdgeTeacher(mode='canny', num_levels=3)
    outs = t(_step_image(32))
    for out in outs:
        edges = out[0, 0]
        w = edges.shape[-1]
        cols = edges.sum(0)
        # a thin vertical line at the step, on (almost) every row
        assert cols[w // 2 - 1:w // 2 + 1].sum() >= edges.shape[0]
        assert cols.sum() - cols[w // 2 - 1:w // 2 + 1].sum() == 0
        assert (edges.sum(1) <= 2).all()  # NMS keeps at most 2 px per row
    # a flat image has no edges
    assert all(o.sum() == 0 for o in t(torch.zeros(1, 3, 32, 32)))


def test_invalid_arguments():
    with pytest.raises(ValueError, match='mode'):
        EdgeTeacher(mode='laplace')
    with pytest.raises(ValueError, match='return_xy'):
        EdgeTeacher(mode='canny', return_xy=True)
    with pytest.raises(ValueError, match='low_threshold'):
        EdgeTeacher(low_threshold=0.3, high_threshold=0.1)
