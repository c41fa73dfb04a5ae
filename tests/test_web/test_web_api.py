"""The HTTP API of tools/web_demo.py through a real server process.

Results are compared with the public inference API run in this process
(same checkpoint, same seed): the server must return exactly what
:class:`SPNInpainter` computes, and pixels outside the hole must equal the
upload.
"""
import base64
import io
import json
import threading
import zipfile

import numpy as np
import pytest
import requests
from PIL import Image

from spn_mm.apis import SPNInpainter
from test_apis.spn_api_fixtures import TINY_PROB, photo, rect_mask
from test_web.web_fixtures import MAX_IMAGE_PIXELS, MAX_UPLOAD_MB

TIMEOUT = 60


def png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format='PNG')
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(data)).convert('RGB'))


def post(server, image: bytes, mask: bytes, headers=None, **fields):
    files = {'image': ('photo.png', image, 'image/png'),
             'mask': ('mask.png', mask, 'image/png')}
    return requests.post(server.url + '/api/inpaint', files=files,
                         data={k: str(v) for k, v in fields.items()},
                         headers=headers, timeout=TIMEOUT)


def assert_one_line_error(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers['content-type'].startswith('application/json')
    msg = resp.json()['error']
    assert '\n' not in msg and 'Traceback' not in msg, msg
    for w in words:
        assert w in msg, msg


@pytest.fixture(scope='module')
def reference(web_ckpt) -> SPNInpainter:
    return SPNInpainter(TINY_PROB, web_ckpt, batch_size=1)


@pytest.fixture(scope='module')
def pair():
    img = photo(100, 150)  # sides not multiples of the model's 32
    mask = rect_mask(100, 150, (0.3, 0.6, 0.25, 0.55))
    return img, mask


def test_health(web_server):
    info = requests.get(web_server.url + '/api/health', timeout=TIMEOUT).json()
    assert info['variant'] == 'prob' and info['device'] == 'cpu'
    assert info['precision'] == 'fp32'
    assert info['model'] == 'spn_tiny_prob / prob.pth'  # names, not paths
    assert info['limits']['max_upload_bytes'] == int(MAX_UPLOAD_MB * 2**20)


def test_good_pair_equals_api(web_server, reference, pair):
    img, mask = pair
    resp = post(web_server, png(img), png(mask), seed=7)
    assert resp.status_code == 200, resp.text
    assert resp.headers['content-type'] == 'image/png'
    assert resp.headers['x-spn-seed'] == '7'
    assert int(resp.headers['x-spn-hole-pixels']) == (mask > 0).sum()
    out = decode(resp.content)
    holes = mask > 0
    assert out.shape == img.shape
    np.testing.assert_array_equal(out[~holes], img[~holes])
    ref = reference.inpaint(img, holes, seed=7)
    np.testing.assert_array_equal(out, ref)


def test_samples_zip(web_server, reference, pair):
    img, mask = pair
    resp = post(web_server, png(img), png(mask), num_samples=3, seed=11)
    assert resp.status_code == 200, resp.text
    assert resp.headers['content-type'] == 'application/zip'
    with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
        assert zf.namelist() == [f'sample_{k}.png' for k in range(3)]
        outs = [decode(zf.read(n)) for n in zf.namelist()]
    ref = reference.inpaint(img, mask > 0, num_samples=3, seed=11)
    for k in range(3):
        np.testing.assert_array_equal(outs[k], ref[k])
    assert not np.array_equal(outs[0], outs[1])  # really different samples


@pytest.mark.parametrize('strategy', ['crop', 'resize'])
def test_hd_strategy_field(web_server, reference, pair, strategy):
    img, mask = pair
    resp = post(web_server, png(img), png(mask), hd_strategy=strategy,
                seed=3, format='json')
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body['hd_strategy'] == strategy and len(body['images']) == 1
    data = body['images'][0].split(',', 1)[1]
    out = decode(base64.b64decode(data))
    ref = reference.inpaint(img, mask > 0, seed=3, hd_strategy=strategy)
    np.testing.assert_array_equal(out, ref)


def test_bad_inputs_one_line_errors(web_server, pair):
    img, mask = pair
    good_i, good_m = png(img), png(mask)
    assert_one_line_error(post(web_server, b'not an image', good_m), 400,
                          'image:', 'not a readable image')
    assert_one_line_error(post(web_server, good_i, b''), 400, 'mask:',
                          'empty')
    assert_one_line_error(post(web_server, good_i, png(mask * 0)), 400,
                          'mask:', 'no hole')
    assert_one_line_error(post(web_server, good_i, png(mask[:50])), 400,
                          'mask:', 'differs from the image')
    for field, value in (('num_samples', 'abc'), ('num_samples', 99),
                         ('seed', -1), ('hd_strategy', 'tiles'),
                         ('format', 'gif')):
        assert_one_line_error(
            post(web_server, good_i, good_m, **{field: value}), 400,
            f'{field}:')
    resp = requests.post(web_server.url + '/api/inpaint',
                         files={'image': ('a.png', good_i)}, timeout=TIMEOUT)
    assert_one_line_error(resp, 400, 'mask: missing')
    resp = requests.post(web_server.url + '/api/inpaint',
                         data={'image': '/etc/hostname', 'mask': 'x'},
                         timeout=TIMEOUT)
    assert_one_line_error(resp, 400, 'multipart/form-data')
    resp = post(web_server, good_i, good_m, path='/etc/hostname')
    assert_one_line_error(resp, 400, 'path: unknown field')


def test_size_and_pixel_limits(web_server, pair):
    _, mask = pair
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, int(MAX_UPLOAD_MB * 2**20) + 1000,
                       dtype=np.uint8).tobytes()
    assert_one_line_error(post(web_server, big, png(mask)), 413,
                          'upload limit')
    h, w = 400, 600  # 240,000 pixels > the server's 200,000
    assert h * w > MAX_IMAGE_PIXELS
    flat = np.full((h, w, 3), 128, np.uint8)  # tiny file, many pixels
    assert_one_line_error(
        post(web_server, png(flat), png(rect_mask(h, w))), 413, 'image:',
        'pixels')


def test_dns_rebinding_and_csrf_refused(web_server, pair):
    img, mask = pair
    url = web_server.url
    resp = requests.get(url + '/api/health',
                        headers={'Host': f'evil.example:{web_server.port}'},
                        timeout=TIMEOUT)
    assert_one_line_error(resp, 421, 'DNS rebinding')
    resp = requests.get(url + '/', headers={'Host': 'localhost:1'},
                        timeout=TIMEOUT)
    assert resp.status_code == 421
    for headers, word in (({'Origin': 'http://evil.example'}, 'Origin'),
                          ({'Origin': 'null'}, 'Origin'),
                          ({'Referer': 'http://evil.example/x'}, 'Referer'),
                          ({'Sec-Fetch-Site': 'cross-site'}, 'cross-site')):
        assert_one_line_error(
            post(web_server, png(img), png(mask), headers=headers), 403,
            word)
    ok = post(web_server, png(img), png(mask),
              headers={'Origin': f'http://localhost:{web_server.port}'})
    assert ok.status_code == 200, ok.text


def test_concurrent_requests_all_answered(web_server, reference, pair):
    img, mask = pair
    body_i, body_m = png(img), png(mask)
    results = {}

    def worker(seed: int) -> None:
        try:
            results[seed] = post(web_server, body_i, body_m, seed=seed)
        except Exception as err:  # reported below
            results[seed] = err

    threads = [threading.Thread(target=worker, args=(s, )) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert sorted(results) == list(range(6))
    for seed, resp in results.items():
        assert isinstance(resp, requests.Response), resp
        assert resp.status_code == 200, resp.text
        np.testing.assert_array_equal(
            decode(resp.content), reference.inpaint(img, mask > 0,
                                                    seed=seed))
    info = requests.get(web_server.url + '/api/health', timeout=TIMEOUT)
    assert json.loads(info.text)['waiting'] == 0
    assert 'Traceback' not in web_server.log()
