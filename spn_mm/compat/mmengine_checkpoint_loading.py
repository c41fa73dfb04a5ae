"""mmengine <= 0.10.7 with torch >= 2.6 cannot load its own checkpoints.

Upstream: open-mmlab/mmengine#1655 (fixed after 0.10.7). mmengine's local
checkpoint loader calls ``torch.load`` without ``weights_only``; torch >= 2.6
then refuses mmengine checkpoints (``HistoryBuffer`` and numpy arrays in the
message hub) on ``--resume``, ``load_from`` and ``tools/test.py CKPT``.

Fix, scoped to mmengine's local checkpoint loader only (every other
``torch.load`` keeps torch's ``weights_only=True`` default): load with
``weights_only=True`` and mmengine's checkpoint types allow-listed through
``torch.serialization.safe_globals``; a checkpoint that holds anything else
(mmengine pickles some objects through ``getattr``) is loaded with
``weights_only=False`` -- as mmengine itself does after the upstream fix.
Only load checkpoints you trust, as with any pickle.
"""
import collections
import os.path as osp
import pickle
from typing import Any, List

import numpy as np
import torch

from ._versions import in_range

UPSTREAM = 'open-mmlab/mmengine#1655'
APPLIES_TO = 'mmengine <= 0.10.7 with torch >= 2.6'


def applies() -> bool:
    """Whether the installed versions have the bug."""
    return in_range('mmengine', None, '0.10.7') and in_range(
        'torch', '2.6.0', None)


def checkpoint_safe_globals() -> List[Any]:
    """The non-tensor types of mmengine checkpoints we allow-list."""
    from mmengine.logging.history_buffer import HistoryBuffer
    dtypes = {type(np.dtype(t)) for t in (np.float16, np.float32, np.float64,
                                          np.int32, np.int64, np.bool_)}
    return [
        HistoryBuffer, np.core.multiarray._reconstruct,
        np.core.multiarray.scalar, np.ndarray, np.dtype, collections.Counter,
        *sorted(dtypes, key=lambda t: t.__name__)
    ]


def load_checkpoint_file(filename: str, map_location: Any = None):
    """mmengine's local loader with the fix above."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        return torch.load(
            filename, map_location=map_location, weights_only=False)


def apply() -> None:
    """Register the loader for local paths in mmengine's CheckpointLoader."""
    from mmengine.runner import checkpoint as ckpt_mod
    ckpt_mod.CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)
    ckpt_mod.load_from_local = load_checkpoint_file
