"""Helpers shared by the test-suite: tiny datasets and running the tools."""
import importlib.util
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


#: tiny SPNGenerator parts (random init, seconds on CPU) for model tests
TINY_LEARNER = dict(
    type='SemanticPriorLearner',
    base_channels=8,
    growth_channels=4,
    num_rdbs=2,
    num_rdb_layers=2,
    num_recon_blocks=2,
    head_channels=[5, 5, 10])
TINY_GEN = dict(
    type='SPADEGenerator',
    base_channels=8,
    num_middle_blocks=2,
    spade_hidden_channels=8)
TINY_VAR = dict(
    type='VariationalPrior',
    in_channels=32,
    mid_channels=16,
    latent_channels=4,
    out_channels=8)


def load_script(path: str, name: str):
    """A script (``tools/*.py``, ``benchmarks/*.py``) as a module.

    Args:
        path (str): The file, absolute or relative to the repo root.
        name (str): The module name to give it.
    """
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def tool_env(env: Optional[dict] = None) -> dict:
    """The environment the tests run tools in: one thread unless set, the
    repo first on ``PYTHONPATH``, then ``env``'s entries."""
    full_env = dict(os.environ)
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env['PYTHONPATH'] = REPO_ROOT + os.pathsep + full_env.get(
        'PYTHONPATH', '')
    full_env.update(env or {})
    return full_env


def run_cmd(cmd: Sequence[str], timeout: int = 600, env: Optional[dict] = None,
            cwd: str = REPO_ROOT) -> subprocess.CompletedProcess:
    """Run a command, raising with its full output if it fails."""
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=tool_env(env), capture_output=True, text=True,
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


def make_places2_layout(root: str, n_train: int = 4, n_val: int = 3,
                        size: int = 64, seed: int = 0) -> dict:
    """A tiny dataset in the documented Places2 layout (docs/datasets.md).

    ``data_256/`` + ``meta/train.txt`` (train), ``val_256/`` +
    ``meta/eval_manifest_seed0.jsonl`` (test, paired with ``masks/``).

    Returns:
        dict: ``data_root`` and ``mask_root``.
    """
    from spn_mm.datasets.manifest_utils import build_manifest, write_manifest
    rng = np.random.default_rng(seed)
    names = {}
    for split, n in (('data_256', n_train), ('val_256', n_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        names[split] = []
        for i in range(n):
            low = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
            img = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
            name = f'Places365_{split}_{i:08d}.jpg'
            cv2.imwrite(osp.join(root, split, name), img)
            names[split].append(name)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.write('\n'.join(names['data_256']) + '\n')
    mask_root = osp.join(root, 'masks')
    os.makedirs(mask_root, exist_ok=True)
    mask_names = []
    for i in range(n_val):
        mask = np.zeros((size, size), np.uint8)
        mask[size // 4:size // 2 + 4 * i, size // 4:size // 2] = 255
        mask_names.append(f'{i:05d}.png')
        cv2.imwrite(osp.join(mask_root, mask_names[-1]), mask)
    header, records = build_manifest(
        osp.join(root, 'val_256'), names['val_256'], mask_root, mask_names,
        size=(size, size), seed=0, dataset='places2')
    write_manifest(
        osp.join(root, 'meta', 'eval_manifest_seed0.jsonl'), header, records)
    return dict(data_root=root, mask_root=mask_root)
