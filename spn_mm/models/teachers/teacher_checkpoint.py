"""Loading teacher weights from local files, with explicit key maps.

Teachers never load weights while being built. :meth:`init_weights` (called
by mmengine's Runner for training) reads a **local** file through
:func:`load_teacher_state_dict`, optionally converts its key names with a
named key map from :data:`TEACHER_KEY_MAPS`, and copies it into the teacher
with :func:`load_into`, which refuses to leave any weight of the kept
(non-pruned) model uninitialised.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from torch import Tensor

from spn_mm.utils.weights_io import check_finite, load_weights_file

StateDict = Dict[str, Tensor]

# InPlaceABN keeps |gamma| + eps as the effective scale; eps of the official
# ASL TResNet layers (inplace_abn default).
ASL_ABN_EPS = 1e-5


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


# --------------------------------------------------------------------- #
# ASL TResNet (InPlaceABN) -> timm TResNet
# --------------------------------------------------------------------- #
# ASL's conv2d_ABN is ``Sequential(Conv2d, InPlaceABN)`` -> ``.0`` / ``.1``;
# timm's ConvNormAct names them ``.conv`` / ``.bn``. Strided blocks wrap it
# once more with the anti-alias layer: ``Sequential(conv2d_ABN, AA)``.
_ABN_PARAMS = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_ASL_RULES = [
    # anti-aliased conv: convK.0.0 (conv) / convK.0.1 (ABN) / convK.1 (AA)
    (re.compile(r'^(.*\.conv\d)\.0\.0\.weight$'), r'\1.conv.weight'),
    (re.compile(r'^(.*\.conv\d)\.0\.1\.' + _ABN_PARAMS + '$'), r'\1.bn.\2'),
    (re.compile(r'^(.*\.conv\d)\.1\.(op\.)?filt$'), None),
    # plain conv2d_ABN: stem ``body.conv1`` and unstrided block convs
    (re.compile(r'^(.*\.conv\d)\.0\.weight$'), r'\1.conv.weight'),
    (re.compile(r'^(.*\.conv\d)\.1\.' + _ABN_PARAMS + '$'), r'\1.bn.\2'),
    # shortcut: downsample.[AvgPool,] conv2d_ABN
    (re.compile(r'^(.*\.downsample\.\d+)\.0\.weight$'), r'\1.conv.weight'),
    (re.compile(r'^(.*\.downsample\.\d+)\.1\.' + _ABN_PARAMS + '$'),
     r'\1.bn.\2'),
    # squeeze-excitation and classifier keep their names
    (re.compile(r'^(.*\.se\.fc\d\.(weight|bias))$'), r'\1'),
    (re.compile(r'^(head\.fc\.(weight|bias))$'), r'\1'),
]


def _binomial_blur(channels: int) -> Tensor:
    taps = torch.tensor([1., 2., 1.])
    kernel = (taps[:, None] * taps[None, :]) / 16
    return kernel[None, None].repeat(channels, 1, 1, 1)


def convert_asl_tresnet(state_dict: StateDict,
                        eps: float = ASL_ABN_EPS) -> StateDict:
    """Map an official ASL TResNet state dict to timm's TResNet names.

    Key map (every key must match exactly one rule, otherwise ``KeyError``):

    ==========================================  ============================
    ASL (InPlaceABN)                            timm
    ==========================================  ============================
    ``body.conv1.0.weight``                     ``body.conv1.conv.weight``
    ``body.conv1.1.{weight,bias,running_*}``    ``body.conv1.bn.*``
    ``....convK.0.weight`` / ``.convK.1.*``     ``.convK.conv`` / ``.convK.bn``
    ``....convK.0.0.weight`` (anti-aliased)     ``.convK.conv.weight``
    ``....convK.0.1.*`` (anti-aliased)          ``.convK.bn.*``
    ``....convK.1[.op].filt`` (blur filter)     dropped after checking it is
                                                the fixed [1,2,1]x[1,2,1]/16
                                                filter (timm rebuilds it)
    ``....downsample.i.0.weight`` / ``.i.1.*``  ``.i.conv.weight`` / ``.i.bn``
    ``....se.fc{1,2}.*``, ``head.fc.*``         unchanged
    ==========================================  ============================

    InPlaceABN scales by ``|gamma| + eps``, so every ``bn.weight`` becomes
    ``weight.abs() + eps`` (the conversion timm applies to ASL checkpoints).
    A checkpoint already in timm format (``body.conv1.conv.weight``
    present) is returned unchanged.

    Args:
        state_dict (dict[str, Tensor]): ASL state dict (``ckpt['model']``).
        eps (float): InPlaceABN eps. Default: 1e-5.

    Returns:
        dict[str, Tensor]: Tensors under timm TResNet names.
    """
    if 'body.conv1.conv.weight' in state_dict:
        return OrderedDict(state_dict)
    out: StateDict = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        for pattern, repl in _ASL_RULES:
            if pattern.match(key):
                break
        else:
            unknown.append(key)
            continue
        if repl is None:  # anti-alias filter: a constant, check and drop
            expected = _binomial_blur(value.shape[0]).to(value)
            if value.shape != expected.shape or not torch.allclose(
                    value.float(), expected.float(), atol=1e-3):
                raise ValueError(f'ASL checkpoint: anti-alias filter {key} is '
                                 'not the [1,2,1]x[1,2,1]/16 blur timm uses')
            continue
        new_key = pattern.sub(repl, key)
        if new_key.endswith('.bn.weight'):
            value = value.abs() + eps
        if new_key in out:
            raise KeyError(f'ASL checkpoint: two keys map to {new_key}')
        out[new_key] = value
    if unknown:
        raise KeyError(
            f'ASL checkpoint: {len(unknown)} key(s) match no rule of the ASL '
            f'-> timm TResNet key map, e.g. {unknown[:5]}')
    return out


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
        raise KeyError(f'unknown checkpoint_key_map {key_map!r}; available: '
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
