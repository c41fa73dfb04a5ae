"""benchmarks/bench_utils.nnpack_conv2d: the NNPACK probe of
bench_inference.py --nnpack routes exactly the convolutions it names and
computes them to float32 accuracy (against a float64 convolution)."""

import pytest
import torch
import torch.nn.functional as F
from utils import load_script

BENCH_UTILS = load_script('benchmarks/bench_utils.py', 'spn_bench_utils')

pytestmark = pytest.mark.skipif(
    not torch._nnpack_available(),
    reason='NNPACK does not initialise on this CPU (it needs AVX2 or NEON)')


def _calls(monkeypatch):
    """Count the calls that reach NNPACK."""
    calls = []
    real = torch._nnpack_spatial_convolution

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, '_nnpack_spatial_convolution', spy)
    return calls


def test_routes_3x3_inference_convs_on_large_maps(monkeypatch):
    calls = _calls(monkeypatch)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 16, 64, 64, generator=g)
    w = torch.randn(8, 16, 3, 3, generator=g) / 12
    b = torch.randn(8, generator=g)
    ref = F.conv2d(x.double(), w.double(), b.double(), padding=1)
    with torch.no_grad(), BENCH_UTILS.nnpack_conv2d(min_size=64):
        out = F.conv2d(x, w, b, padding=1)
        conv = torch.nn.Conv2d(16, 8, 3, padding=1, padding_mode='reflect')
        conv(x)  # nn.Conv2d pads itself and calls F.conv2d(padding=0)
    assert len(calls) == 2
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert float((out.double() - ref).abs().max()) < 1e-4


@pytest.mark.parametrize('case', ['small map', 'dilated', 'strided', '1x1',
                                  'few channels', 'autograd'])
def test_leaves_other_convs_to_torch(monkeypatch, case):
    calls = _calls(monkeypatch)
    x = torch.randn(1, 16, 64, 64)
    w = torch.randn(8, 16, 3, 3)
    kwargs = dict(padding=1)
    if case == 'small map':
        x = x[:, :, :32, :32].contiguous()
    elif case == 'dilated':
        kwargs = dict(padding=2, dilation=2)
    elif case == 'strided':
        kwargs = dict(padding=1, stride=2)
    elif case == '1x1':
        w, kwargs = w[:, :, :1, :1].contiguous(), {}
    elif case == 'few channels':
        x, w = x[:, :4].contiguous(), w[:, :4].contiguous()
    grad = case == 'autograd'
    with torch.set_grad_enabled(grad), BENCH_UTILS.nnpack_conv2d(64):
        out = F.conv2d(x, w, **kwargs)
    assert calls == []
    torch.testing.assert_close(out, F.conv2d(x, w, **kwargs))


def test_restores_conv2d():
    before = F.conv2d
    with pytest.raises(ValueError), BENCH_UTILS.nnpack_conv2d():
        assert F.conv2d is not before
        raise ValueError
    assert F.conv2d is before
