# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by the test-suite: tiny datasets and running the tools."""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import List, Optional, Sequence

import cv2
import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(REPO_ROOT, 'tools')


def make_tiny_dataset(root: str, n_train: int = 6, n_val: int = 3,
                      size: int = 64, seed: int = 0) -> str:
    """Write a tiny inpainting dataset of smooth random RGB images.

    Layout: ``root/train/*.png``, ``root/val/*.png``, ``root/val_masks/*.png``
    (mask: 255 = hole, same file names as ``val``).

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('val', n_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        for i in range(n):
            low = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
            img = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(osp.join(root, split, f'{i:03d}.png'), img)
    os.makedirs(osp.join(root, 'val_masks'), exist_ok=True)
    for i in range(n_val):
        mask = np.zeros((size, size), np.uint8)
        h = size // 4 + i * 4
        mask[size // 4:size // 4 + h, size // 3:size // 3 + h] = 255
        cv2.imwrite(osp.join(root, 'val_masks', f'{i:03d}.png'), mask)
    return root


def free_port() -> int:
    """A free TCP port on localhost for torch.distributed rendezvous."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_cmd(cmd: Sequence[str], timeout: int = 600, env: Optional[dict] = None,
            cwd: str = REPO_ROOT) -> subprocess.CompletedProcess:
    """Run a command, raising with its full output if it fails."""
    full_env = dict(os.environ)
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env['PYTHONPATH'] = REPO_ROOT + os.pathsep + full_env.get(
        'PYTHONPATH', '')
    if env:
        full_env.update(env)
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f'command failed ({proc.returncode}): {" ".join(cmd)}\n'
            f'--- stdout ---\n{proc.stdout[-6000:]}\n'
            f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


def run_tool(script: str, args: List[str], **kwargs
             ) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` with this interpreter."""
    return run_cmd([sys.executable, osp.join(TOOLS, script), *args], **kwargs)
