"""Shared helpers of the reliability catalogue tests (docs/reliability.md).

Bad inputs are written here from scratch (no stored files); the CLIs are run
as subprocesses the way a user runs them, and each subprocess covers many
catalogue rows at once (every ``import spn_mm`` costs ~10 s).
"""
import os
import os.path as osp
import subprocess
import sys
from typing import List, Optional

import numpy as np
from PIL import Image

from utils import REPO_ROOT, TOOLS, tool_env

TESTS_DIR = osp.join(REPO_ROOT, 'tests')


def cli(script: str,
        args: List[str],
        env: Optional[dict] = None,
        preexec_fn=None,
        timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` as a user would; never raises on rc != 0."""
    return subprocess.run([sys.executable,
                           osp.join(TOOLS, script), *args],
                          cwd=REPO_ROOT,
                          env=tool_env(env),
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          preexec_fn=preexec_fn)


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random (h, w, 3) uint8 image (cheap, no photo needed)."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (2, 2, 3)).astype(np.float64)
    ys = np.linspace(0, 1, h)[:, None, None]
    xs = np.linspace(0, 1, w)[None, :, None]
    img = (low[0, 0] * (1 - ys) * (1 - xs) + low[0, 1] * (1 - ys) * xs +
           low[1, 0] * ys * (1 - xs) + low[1, 1] * ys * xs)
    return np.rint(img).astype(np.uint8)


def box_mask(h: int, w: int, value: int = 255) -> np.ndarray:
    """(h, w) uint8 mask with a central box of ``value`` (hole)."""
    m = np.zeros((h, w), np.uint8)
    m[h // 4:h // 2 + 1, w // 4:w // 2 + 1] = value
    return m


def save(path: str, arr: np.ndarray, **kw) -> str:
    """Save an array with PIL, creating the folder."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(arr).save(path, **kw)
    return path
