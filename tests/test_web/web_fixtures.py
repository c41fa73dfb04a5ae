"""Start ``tools/web_demo.py`` as a real server process for the web tests.

The server binds to 127.0.0.1 on a free port, is polled (bounded) until
``/api/health`` answers, and is always stopped (terminate, then kill).
"""
import contextlib
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Iterator, List, Optional

import requests

from utils import REPO_ROOT, free_port

START_TIMEOUT_S = 120.0
#: Limits the shared test server runs with (small: the limit tests are cheap).
MAX_UPLOAD_MB = 1.0
MAX_IMAGE_PIXELS = 200_000


class DemoServer:
    """A running web demo: ``url``, ``port``, ``log_path``."""

    def __init__(self, proc: subprocess.Popen, port: int,
                 log_path: str) -> None:
        self.proc = proc
        self.port = port
        self.url = f'http://127.0.0.1:{port}'
        self.log_path = log_path

    def log(self) -> str:
        """What the server printed so far."""
        with open(self.log_path, errors='replace') as f:
            return f.read()


@contextlib.contextmanager
def demo_server(config: str,
                checkpoint: str,
                log_path: str,
                extra_args: Optional[List[str]] = None
                ) -> Iterator[DemoServer]:
    """Run the demo server for the duration of the block."""
    port = free_port()
    env = dict(os.environ)
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('PYTHONWARNINGS', 'ignore')
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'web_demo.py'), config, checkpoint,
        '--host', '127.0.0.1', '--port',
        str(port), *(extra_args or [])
    ]
    log = open(log_path, 'w')
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    server = DemoServer(proc, port, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f'web_demo.py exited with {proc.returncode}'
                                   f' before answering:\n{server.log()}')
            try:
                if requests.get(server.url + '/api/health',
                                timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f'web_demo.py did not answer within '
                                   f'{START_TIMEOUT_S:.0f} s:\n{server.log()}')
            time.sleep(0.25)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
