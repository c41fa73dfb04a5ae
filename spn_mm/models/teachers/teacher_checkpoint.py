"""Loading teacher weights from local files, with explicit key maps.

Teachers never load weights while being built. :meth:`init_weights` (called
by mmengine's Runner for training) reads a **local** file through
:func:`load_teacher_state_dict`, optionally converts its key names with a
named key map from :data:`TEACHER_KEY_MAPS`, and copies it into the teacher
with :func:`load_into`, which refuses to leave any weight of the kept
(non-pruned) model uninitialised.
"""
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from torch import Tensor

from spn_mm.converters.asl_tresnet import convert_asl_tresnet
from spn_mm.utils.cli_errors import ConfigKeyError
from spn_mm.utils.weights_io import check_finite, load_weights_file

StateDict = Dict[str, Tensor]


def load_teacher_state_dict(path: str,
                            cfg_key: str,
                            prefix: Optional[str] = None) -> StateDict:
    """Read a local checkpoint and return its (optionally prefixed) tensors.

    The state is taken from ``ckpt['state_dict']``, else ``ckpt['model']``,
    else the file itself (mmengine/mmpretrain/mmseg, ASL and plain torch
    formats).

    Args:
        path (str): Local file path.
        cfg_key (str): The config key that supplied ``path`` (named in the
            error when the file is missing), e.g.
            ``'model.teacher.checkpoint'``.
        prefix (str, optional): Keep only keys starting with ``prefix`` and
            strip it (e.g. ``'backbone.'``). Default: None (keep all).

    Returns:
        dict[str, Tensor]: The selected tensors.
    """
    if not isinstance(path, str) or '://' in path:
        raise ValueError(
            f'{cfg_key} must be a local file path (teachers never download '
            f'weights), got {path!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'teacher checkpoint not found: {cfg_key}={path!r} does not '
            f'exist. Download the weights (see docs/teachers.md) and set '
            f'{cfg_key} to the local file, or leave it None for a random '
            f'teacher.')
    # Local trusted file; mmengine's loader honours spn_mm's torch>=2.6
    # weights_only patch.
    from mmengine.runner.checkpoint import _load_checkpoint
    ckpt = load_weights_file(
        path, cfg_key, lambda p: _load_checkpoint(p, map_location='cpu'))
    state = ckpt
    if isinstance(ckpt, dict):
        if isinstance(ckpt.get('state_dict'), dict):
            state = ckpt['state_dict']
        elif isinstance(ckpt.get('model'), dict):
            state = ckpt['model']
    if not isinstance(state, dict):
        raise TypeError(f'{cfg_key}={path!r}: expected a state dict (or a '
                        f'dict holding one under "state_dict"/"model"), '
                        f'got {type(state).__name__}')
    tensors = OrderedDict(
        (k, v) for k, v in state.items() if isinstance(v, Tensor))
    check_finite(tensors, f'{cfg_key}={path!r}')
    if prefix:
        tensors = OrderedDict((k[len(prefix):], v) for k, v in tensors.items()
                              if k.startswith(prefix))
        if not tensors:
            raise KeyError(f'{cfg_key}={path!r}: no key starts with the '
                           f'checkpoint prefix {prefix!r}')
    return tensors


TEACHER_KEY_MAPS: Dict[str, Callable[[StateDict], StateDict]] = {
    'asl_tresnet': convert_asl_tresnet,
}


def get_key_map(
    key_map: Union[None, str, Callable[[StateDict], StateDict]]
) -> Optional[Callable[[StateDict], StateDict]]:
    """Resolve a key-map name of :data:`TEACHER_KEY_MAPS` (or a callable)."""
    if key_map is None or callable(key_map):
        return key_map
    if key_map not in TEACHER_KEY_MAPS:
        raise ConfigKeyError(f'unknown checkpoint_key_map {key_map!r}; available: '
                       f'{sorted(TEACHER_KEY_MAPS)}')
    return TEACHER_KEY_MAPS[key_map]


def load_into(module: nn.Module,
              state_dict: StateDict,
              cfg_key: str,
              path: str,
              ignore_prefixes: Sequence[str] = (),
              strict: bool = False) -> Tuple[list, list]:
    """Copy ``state_dict`` into ``module``; no kept weight may be missing.

    Args:
        module (nn.Module): Destination (the teacher's model).
        state_dict (dict[str, Tensor]): Tensors under ``module``'s names.
        cfg_key (str): Config key of the checkpoint (for errors).
        path (str): Checkpoint path (for errors).
        ignore_prefixes (Sequence[str]): Key prefixes of pruned sub-modules;
            checkpoint entries under them are skipped silently.
        strict (bool): Raise on checkpoint keys the module does not have
            (outside ``ignore_prefixes``). Default: False (log a warning).

    Returns:
        tuple[list, list]: ``(loaded_keys, ignored_keys)``.
    """
    own = module.state_dict()
    ignored, unexpected = [], []
    kept = OrderedDict()
    for key, value in state_dict.items():
        if key in own:
            if tuple(own[key].shape) != tuple(value.shape):
                raise ValueError(
                    f'{cfg_key}={path!r}: shape mismatch for {key}: '
                    f'checkpoint {tuple(value.shape)} vs model '
                    f'{tuple(own[key].shape)}')
            kept[key] = value
        elif any(key.startswith(p) for p in ignore_prefixes):
            ignored.append(key)
        else:
            unexpected.append(key)
    missing = [
        k for k in own
        if k not in kept and not k.endswith('num_batches_tracked')
    ]
    if missing:
        raise KeyError(
            f'{cfg_key}={path!r}: {len(missing)} teacher weight(s) are not in '
            f'the checkpoint (check checkpoint_prefix / checkpoint_key_map), '
            f'e.g. {missing[:5]}')
    if unexpected:
        msg = (f'{cfg_key}={path!r}: {len(unexpected)} checkpoint key(s) '
               f'unused by the teacher, e.g. {unexpected[:5]}')
        if strict:
            raise KeyError(msg)
        print_log(msg, logger=MMLogger.get_current_instance(), level=30)
    module.load_state_dict(kept, strict=False)
    return list(kept), ignored
