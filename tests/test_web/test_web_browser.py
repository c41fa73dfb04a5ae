"""The web page in a real headless browser (Debian's Chromium over CDP).

Loads the page from a real server, uploads a photo, paints a stroke with
mouse events, clicks Inpaint, downloads the full-resolution PNG and checks
it against the binarised mask the page sent: changed pixels lie inside it,
pixels outside equal the upload, and the result equals SPNInpainter's for
the same seed. A screenshot is saved under the test's tmp dir.

Without a browser the test is skipped with a loud reason, except when
``SPN_REQUIRE_BROWSER=1`` (CI: ``.ci/run``), where it fails.
"""
import base64
import io
import os
import os.path as osp
import time

import numpy as np
import pytest
from PIL import Image

from spn_mm.apis import SPNInpainter
from test_apis.spn_api_fixtures import TINY_PROB, photo, rect_mask
from test_web.cdp import Browser, find_browser

H, W = 240, 320


@pytest.fixture
def browser(tmp_path):
    binary = find_browser()
    if binary is None:
        reason = ('NO BROWSER: no chromium/google-chrome on the PATH (nor '
                  '$SPN_CHROMIUM); tools/install.sh installs Debian\'s '
                  'chromium with apt-get where it can')
        if os.environ.get('SPN_REQUIRE_BROWSER') == '1':
            pytest.fail(f'SPN_REQUIRE_BROWSER=1 but {reason}')
        pytest.skip(reason)
    profile = tmp_path / 'profile'
    profile.mkdir()
    b = Browser(binary, str(profile))
    try:
        yield b
    finally:
        b.close()


def _data_url_to_array(url: str) -> np.ndarray:
    data = base64.b64decode(url.split(',', 1)[1])
    return np.array(Image.open(io.BytesIO(data)))


def _holes(b: Browser) -> int:
    return b.eval('binarisedMask().holes')


def _wait_download(folder: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [f for f in os.listdir(folder)
                if f.endswith('.png') and not f.endswith('.crdownload')]
        if done:
            path = osp.join(folder, done[0])
            time.sleep(0.2)  # let the browser finish the rename
            return path
        time.sleep(0.1)
    raise AssertionError(f'no download in {folder} after {timeout} s')


def test_paint_inpaint_download(browser, web_server, web_ckpt, tmp_path):
    b = browser
    img = photo(H, W, 'astronaut')
    photo_path = str(tmp_path / 'photo.png')
    Image.fromarray(img).save(photo_path)
    rect = rect_mask(H, W, (0.1, 0.3, 0.1, 0.3))
    mask_path = str(tmp_path / 'rect_mask.png')
    Image.fromarray(rect).save(mask_path)
    downloads = tmp_path / 'downloads'
    downloads.mkdir()
    b.allow_downloads(str(downloads))

    b.navigate(web_server.url + '/')
    b.wait_for("window.spnApp && spnApp.state === 'ready'", 30,
               'the page to read /api/health')
    assert 'probabilistic' in b.eval("$('model-info').textContent")
    assert b.eval("$('sampling').hidden") is False

    # errors are messages in the page
    b.click('#inpaint')
    assert b.eval('spnApp.lastError') == 'image: choose a photo first'
    bad = tmp_path / 'notes.png'
    bad.write_text('not an image')
    b.set_files('#image-file', [str(bad)])
    b.wait_for('spnApp.lastError', 10, 'the bad-file message')
    assert b.eval('spnApp.lastError').startswith('image: not a readable image')
    b.set_files('#image-file', [photo_path])
    b.wait_for('spnApp.imageLoaded', 30, 'the photo to load')
    assert b.eval("$('error').hidden") is True
    assert b.eval('[spnApp.width, spnApp.height]') == [W, H]
    b.click('#inpaint')
    assert b.eval('spnApp.lastError').startswith('mask: nothing to fill')
    assert b.eval("$('error').hidden") is False

    # an uploaded mask, then Clear
    b.set_files('#mask-file', [mask_path])
    b.wait_for('spnApp.actions.length === 1', 10, 'the mask to load')
    assert _holes(b) == int((rect > 0).sum())
    b.click('#clear')
    assert _holes(b) == 0

    # a brush stroke across the photo (display coordinates)
    r = b.eval("(() => { const r = $('mask-canvas').getBoundingClientRect();"
               ' return [r.left, r.top, r.width, r.height]; })()')
    left, top, width, height = r
    pts = [[left + width * (0.2 + 0.5 * t), top + height * (0.35 + 0.3 * t)]
           for t in np.linspace(0, 1, 25)]
    b.drag(pts)
    painted = _holes(b)
    assert painted > 0
    # eraser removes part of it, undo brings it back
    b.click('#tool-eraser')
    b.drag(pts[10:14])
    assert 0 < _holes(b) < painted
    b.click('#undo')
    assert _holes(b) == painted
    b.click('#tool-brush')

    # two samples, fixed seed
    b.eval("$('num-samples').value = '2'; $('seed').value = '5'")
    # record the busy state (spinner + disabled button) while the model runs
    b.eval("window.busySeen = false; new MutationObserver(() => {"
           " if ($('status').classList.contains('busy') &&"
           " $('inpaint').disabled) window.busySeen = true; })"
           ".observe($('status'), {attributes: true, childList: true})")
    b.click('#inpaint')
    b.wait_for("spnApp.state === 'done' || spnApp.state === 'error'", 60,
               'the result')
    assert b.eval('spnApp.state') == 'done', b.eval('spnApp.lastError')
    assert b.eval("$('status').textContent").startswith('Done in')
    assert b.eval('window.busySeen') is True
    assert b.eval("$('inpaint').disabled") is False
    assert b.eval("document.querySelectorAll('#results img').length") == 2

    sent = _data_url_to_array(b.eval('spnApp.lastMaskDataURL'))
    assert sent.shape[:2] == (H, W)
    levels = np.unique(sent[..., :3])
    assert set(levels.tolist()) <= {0, 255}  # binarised, not anti-aliased
    holes = sent[..., 0] == 255
    assert holes.sum() == painted == b.eval('spnApp.lastMaskHoles')
    # the stroke's middle (in image pixels) is a hole, a far corner is not
    assert holes[int(H * 0.5), int(W * 0.45)] and not holes[H - 5, 5]

    b.click('#download-0')
    result = np.array(Image.open(_wait_download(str(downloads))).convert('RGB'))
    assert result.shape == img.shape  # full resolution
    np.testing.assert_array_equal(result[~holes], img[~holes])
    changed = (result != img).any(axis=-1)
    assert not changed[~holes].any()
    assert changed[holes].mean() > 0.5
    ref = SPNInpainter(TINY_PROB, web_ckpt).inpaint(
        img, holes, num_samples=2, seed=5)
    np.testing.assert_array_equal(result, ref[0])
    shown = [_data_url_to_array(u)[..., :3] for u in b.eval('spnApp.results')]
    np.testing.assert_array_equal(shown[1], ref[1])

    shot = b.screenshot(str(tmp_path / 'web_demo.png'))
    assert osp.getsize(shot) > 10_000
    print(f'screenshot: {shot}')
