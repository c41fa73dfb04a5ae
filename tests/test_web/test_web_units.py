"""In-process checks of the web demo's parts: the Host/Origin guard, upload
decoding limits, the service on a deterministic model and the CLI's
arguments (no server, no browser)."""
import io

import numpy as np
import pytest
from PIL import Image

from spn_mm.apis import SPNInpainter
from spn_mm.utils import run_cli
from spn_mm.web import (InpaintService, RequestGuard, WebInputError,
                        WebLimits, bind_warning, is_loopback)
from spn_mm.web.service import decode_image
from test_apis.spn_api_fixtures import (TINY_DET,
                                        make_tiny_checkpoint, photo, rect_mask)
from utils import load_script


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format='PNG')
    return buf.getvalue()


def test_guard_host_header():
    g = RequestGuard('127.0.0.1', 7860)
    for ok in ('127.0.0.1:7860', 'localhost:7860', 'LOCALHOST:7860',
               '[::1]:7860'):
        assert g.host_ok(ok), ok
    for bad in (None, '', 'evil.example:7860', '127.0.0.1:7861',
                '127.0.0.1', 'localhost.evil.example:7860',
                '127.0.0.1:7860@evil', '[::1:7860'):
        assert not g.host_ok(bad), bad
    # bound to every interface: only loopback names + the allowed ones
    g = RequestGuard('0.0.0.0', 80, allowed_hosts=['gpu-box'])
    assert g.host_ok('gpu-box') and g.host_ok('gpu-box:80')
    assert not g.host_ok('0.0.0.0:80') and not g.host_ok('other:80')
    assert RequestGuard('::1', 5).host_ok('[::1]:5')


def test_guard_origin_and_methods():
    g = RequestGuard('127.0.0.1', 7860)
    host = {'host': '127.0.0.1:7860'}
    assert g.check('GET', host) is None
    assert g.check('POST', host) is None  # curl: no Origin, no Referer
    same = 'http://127.0.0.1:7860'
    assert g.check('POST', dict(host, origin=same)) is None
    assert g.check('POST', dict(host, referer=same + '/')) is None
    for extra in ({'origin': 'http://evil.example'}, {'origin': 'null'},
                  {'origin': 'https://127.0.0.1:7860'},
                  {'referer': 'http://evil.example/'},
                  {'sec-fetch-site': 'cross-site', 'origin': same}):
        status, msg = g.check('POST', dict(host, **extra))
        assert status == 403 and '\n' not in msg
    status, msg = g.check('GET', {'host': 'evil.example:7860'})
    assert status == 421 and 'DNS rebinding' in msg


def test_bind_warning():
    assert is_loopback('127.0.0.1') and is_loopback('localhost')
    assert is_loopback('::1') and is_loopback('127.0.0.2')
    assert not is_loopback('0.0.0.0') and not is_loopback('192.0.2.1')
    assert bind_warning('127.0.0.1') is None
    assert 'WARNING' in bind_warning('0.0.0.0')


def test_decode_image_limits():
    limits = WebLimits(max_upload_bytes=10_000, max_image_pixels=5_000)
    ok = decode_image(_png(photo(40, 60)), 'image', limits)
    assert ok.size == (60, 40)
    with pytest.raises(WebInputError, match=r'^image: 100x100 = 10,000 '
                       r'pixels is over') as err:
        decode_image(_png(np.zeros((100, 100, 3), np.uint8)), 'image',
                     limits)
    assert err.value.status == 413
    with pytest.raises(WebInputError, match='upload limit'):
        decode_image(b'x' * 10_001, 'mask', limits)
    with pytest.raises(WebInputError, match='^mask: not a readable image'):
        decode_image(b'GIF89a broken', 'mask', limits)
    truncated = _png(photo(40, 60))[:200]
    with pytest.raises(WebInputError, match='not a readable image'):
        decode_image(truncated, 'image', limits)


def test_service_deterministic_model(tmp_path):
    ckpt = make_tiny_checkpoint(str(tmp_path / 'det.pth'), 'det')
    service = InpaintService(SPNInpainter(TINY_DET, ckpt), model_name='t')
    assert service.health()['variant'] == 'det'
    assert service.health()['limits']['max_samples'] == 1
    with pytest.raises(WebInputError, match='num_samples: expected 1..1'):
        service.parse_options('2', None, None)
    img, mask = photo(50, 70), rect_mask(50, 70)
    opts = service.parse_options('1', '', 'crop')
    res = service.run(_png(img), _png(mask), opts)
    assert res.seed is None and res.hole_pixels == (mask > 0).sum()
    ref = SPNInpainter(TINY_DET, ckpt).inpaint(img, mask, hd_strategy='crop')
    np.testing.assert_array_equal(res.images[0], ref)
    # a mask that is almost all hole: served, with the API's warning
    res = service.run(_png(img), _png(np.full((50, 70), 255, np.uint8)),
                      opts)
    assert any('invert' in w for w in res.warnings), res.warnings
    # network input over max_pixels with 'original': a one-line 413
    service.inpainter.max_pixels = 1000
    with pytest.raises(WebInputError, match="hd_strategy='original'") as err:
        service.run(_png(img), _png(mask),
                    service.parse_options(None, None, 'original'))
    assert err.value.status == 413


def _load_cli():
    return load_script('tools/web_demo.py', 'spn_web_demo_tool')


def test_cli_arguments(capsys):
    cli = _load_cli()
    args = cli.parse_args(['cfg.py', 'ckpt.pth'])
    assert (args.host, args.port, args.precision) == ('127.0.0.1', 7860,
                                                      'fp32')
    assert cli.parse_args(['cfg.py', 'ckpt.pth', '--precision',
                           'bf16']).precision == 'bf16'
    with pytest.raises(SystemExit):
        cli.parse_args(['cfg.py', 'ckpt.pth', '--precision', 'fp64'])
    assert "invalid choice: 'fp64'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse_args(['--help'])
    assert 'fp16: CUDA only' in capsys.readouterr().out
    assert run_cli(cli.main,
                   ['missing.py', 'missing.pth', '--port', '7999']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1


def test_uploads_stay_in_memory(monkeypatch):
    """A 3 MB upload (over Starlette's 1 MB spool) never touches the disk."""
    import asyncio
    import tempfile

    from starlette.requests import Request
    from urllib3 import encode_multipart_formdata

    from spn_mm.web.app import read_form

    def no_disk(*args, **kwargs):
        raise AssertionError('an upload was spooled to a temporary file')

    monkeypatch.setattr(tempfile, 'TemporaryFile', no_disk)
    monkeypatch.setattr(tempfile, 'NamedTemporaryFile', no_disk)
    payload = np.random.default_rng(0).bytes(3 * 2**20)
    body, ctype = encode_multipart_formdata({
        'image': ('a.png', payload, 'image/png'),
        'mask': ('m.png', b'mask', 'image/png'),
        'seed': '3'
    })
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]

    async def receive():
        chunk = chunks.pop(0) if chunks else b''
        return {'type': 'http.request', 'body': chunk,
                'more_body': bool(chunks)}

    scope = {'type': 'http', 'method': 'POST', 'path': '/api/inpaint',
             'headers': [(b'content-type', ctype.encode())]}
    form = asyncio.run(read_form(Request(scope, receive), 5 * 2**20))
    assert form['image'] == payload and form['mask'] == b'mask'
    assert form['seed'] == '3'
