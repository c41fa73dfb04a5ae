"""A small Chrome DevTools Protocol client for the browser test.

Starts Debian's headless Chromium on a loopback debugging port and drives
one page through a websocket (``websockets`` sync client): navigate,
evaluate JavaScript, real mouse events, file inputs, downloads and
screenshots. Every wait is bounded, and :meth:`Browser.close` always stops
the process.
"""
import base64
import json
import os
import os.path as osp
import shutil
import subprocess
import time
from typing import Any, Dict, List, Optional

from websockets.sync.client import connect

BROWSER_NAMES = ('chromium', 'chromium-browser', 'google-chrome',
                 'google-chrome-stable')


def find_browser() -> Optional[str]:
    """``$SPN_CHROMIUM`` or the first Chromium/Chrome on the PATH."""
    env = os.environ.get('SPN_CHROMIUM')
    if env:
        return env if osp.isfile(env) else None
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    """A DevTools command failed or a wait timed out."""


class Browser:
    """Headless Chromium with one page attached.

    Args:
        binary (str): The browser executable.
        profile_dir (str): An empty folder for the profile (and the
            ``DevToolsActivePort`` file).
        width, height (int): Window size.
    """

    def __init__(self, binary: str, profile_dir: str, width: int = 1280,
                 height: int = 900) -> None:
        self.proc = subprocess.Popen(
            [
                binary, '--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--no-first-run',
                '--no-default-browser-check', '--disable-extensions',
                '--disable-background-networking', '--disable-sync',
                '--remote-debugging-address=127.0.0.1',
                '--remote-debugging-port=0', f'--user-data-dir={profile_dir}',
                f'--window-size={width},{height}', 'about:blank'
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self._id = 0
        self.events: List[Dict[str, Any]] = []
        self.ws = None
        try:
            port_file = osp.join(profile_dir, 'DevToolsActivePort')
            deadline = time.monotonic() + 30
            while not (osp.isfile(port_file) and
                       len(open(port_file).read().split()) >= 2):
                if self.proc.poll() is not None:
                    raise CDPError(f'chromium exited with '
                                   f'{self.proc.returncode} at start-up')
                if time.monotonic() > deadline:
                    raise CDPError('chromium did not open its debugging port '
                                   'within 30 s')
                time.sleep(0.1)
            port, path = open(port_file).read().split()[:2]
            self.ws = connect(f'ws://127.0.0.1:{port}{path}', max_size=None,
                              open_timeout=10)
            target = self.call('Target.createTarget',
                               url='about:blank')['targetId']
            self.session = self.call('Target.attachToTarget',
                                     targetId=target,
                                     flatten=True)['sessionId']
            self.send('Page.enable')
            self.send('Runtime.enable')
            self.send('Emulation.setDeviceMetricsOverride', width=width,
                      height=height, deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ #
    def call(self, method: str, session: Optional[str] = None,
             timeout: float = 30, **params) -> Dict[str, Any]:
        """Send a command and wait (bounded) for its answer."""
        self._id += 1
        msg = {'id': self._id, 'method': method, 'params': params}
        if session:
            msg['sessionId'] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError(f'{method}: no answer within {timeout} s')
            try:
                reply = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if reply.get('id') == self._id:
                if 'error' in reply:
                    raise CDPError(f'{method}: {reply["error"]}')
                return reply.get('result', {})
            if 'method' in reply:
                self.events.append(reply)

    def send(self, method: str, timeout: float = 30,
             **params) -> Dict[str, Any]:
        """A command to the attached page."""
        return self.call(method, session=self.session, timeout=timeout,
                         **params)

    def eval(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate JavaScript in the page (promises awaited)."""
        res = self.send('Runtime.evaluate', expression=expression,
                        returnByValue=True, awaitPromise=True,
                        timeout=timeout)
        if 'exceptionDetails' in res:
            raise CDPError(f'JavaScript error in {expression[:60]!r}: '
                           f'{res["exceptionDetails"]}')
        return res['result'].get('value')

    def wait_for(self, expression: str, timeout: float = 30,
                 what: str = '') -> Any:
        """Poll a JavaScript expression until it is truthy (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f'timed out after {timeout} s waiting for '
                               f'{what or expression}')
            time.sleep(0.1)

    def navigate(self, url: str, timeout: float = 30) -> None:
        self.send('Page.navigate', url=url)
        self.wait_for("document.readyState === 'complete'", timeout,
                      f'{url} to load')

    def set_files(self, selector: str, paths: List[str]) -> None:
        """Choose files in an ``<input type=file>`` (fires ``change``)."""
        doc = self.send('DOM.getDocument')['root']['nodeId']
        node = self.send('DOM.querySelector', nodeId=doc,
                         selector=selector)['nodeId']
        if not node:
            raise CDPError(f'no element {selector!r}')
        self.send('DOM.setFileInputFiles', nodeId=node, files=paths)

    def center(self, selector: str) -> List[float]:
        """Viewport centre of an element (scrolled into view)."""
        box = self.eval(
            f'(() => {{ const e = document.querySelector({json.dumps(selector)});'
            ' e.scrollIntoView({block: "center"});'
            ' const r = e.getBoundingClientRect();'
            ' return [r.left + r.width / 2, r.top + r.height / 2]; })()')
        if not box:
            raise CDPError(f'no element {selector!r}')
        return box

    def mouse(self, kind: str, x: float, y: float, buttons: int = 0) -> None:
        params = dict(type=kind, x=x, y=y, buttons=buttons, pointerType='mouse')
        if kind in ('mousePressed', 'mouseReleased'):
            params.update(button='left', clickCount=1)
        self.send('Input.dispatchMouseEvent', **params)

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of an element."""
        x, y = self.center(selector)
        self.mouse('mouseMoved', x, y)
        self.mouse('mousePressed', x, y, 1)
        self.mouse('mouseReleased', x, y)

    def drag(self, points: List[List[float]]) -> None:
        """Press at the first point, move through the others, release."""
        self.mouse('mouseMoved', *points[0])
        self.mouse('mousePressed', *points[0], buttons=1)
        for x, y in points[1:]:
            self.mouse('mouseMoved', x, y, buttons=1)
        self.mouse('mouseReleased', *points[-1])

    def allow_downloads(self, folder: str) -> None:
        self.call('Browser.setDownloadBehavior', behavior='allow',
                  downloadPath=folder, eventsEnabled=True)

    def screenshot(self, path: str) -> str:
        data = self.send('Page.captureScreenshot', format='png',
                         captureBeyondViewport=True)['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Stop the browser (always; kill after 10 s)."""
        try:
            if self.ws is not None:
                self.ws.close()
        except Exception:  # closing anyway
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
