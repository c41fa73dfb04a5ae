"""Official ASL TResNet (InPlaceABN) checkpoints -> timm's TResNet names.

The teacher of the paper configs is ASL's TResNet-L (OpenImages). timm
ships the key filter for these checkpoints
(``timm.models.tresnet.checkpoint_filter_fn``); :func:`convert_asl_tresnet`
delegates the conversion to it and makes it strict.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
from timm.models.tresnet import checkpoint_filter_fn
from torch import Tensor

from spn_mm.utils.weights_io import WeightsKeyError

StateDict = Dict[str, Tensor]

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



def _asl_target(key: str, value: Tensor) -> Optional[str]:
    """The timm name of one ASL key (None: the blur filter, checked).

    Raises:
        KeyError: ``key`` matches no rule of the table.
        ValueError: the blur filter is not the fixed binomial filter.
    """
    for pattern, repl in _ASL_RULES:
        if pattern.match(key):
            break
    else:
        raise KeyError(key)
    if repl is None:  # anti-alias filter: a constant, check and drop
        expected = _binomial_blur(value.shape[0]).to(value)
        if value.shape != expected.shape or not torch.allclose(
                value.float(), expected.float(), atol=1e-3):
            raise ValueError(f'ASL checkpoint: anti-alias filter {key} is '
                             'not the [1,2,1]x[1,2,1]/16 blur timm uses')
        return None
    return pattern.sub(repl, key)


def convert_asl_tresnet(state_dict: StateDict) -> StateDict:
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

    The renaming and the InPlaceABN -> BatchNorm scale (``|gamma| + 1e-5``,
    inplace_abn's default eps) are timm's own ``checkpoint_filter_fn``; this
    function adds what timm lacks: every key must match one rule of the
    table (so nothing is dropped silently), the blur filter is checked and
    dropped, and timm's names are checked against the table. A checkpoint
    already in timm format (``body.conv1.conv.weight`` present) is returned
    unchanged.

    Args:
        state_dict (dict[str, Tensor]): ASL state dict (``ckpt['model']``).

    Returns:
        dict[str, Tensor]: Tensors under timm TResNet names.
    """
    if 'body.conv1.conv.weight' in state_dict:
        return OrderedDict(state_dict)
    kept: StateDict = OrderedDict()
    expected: List[str] = []
    unknown = []
    for key, value in state_dict.items():
        try:
            target = _asl_target(key, value)
        except KeyError:
            unknown.append(key)
            continue
        if target is not None:
            kept[key] = value
            expected.append(target)
    if unknown:
        raise WeightsKeyError(
            f'ASL checkpoint: {len(unknown)} key(s) match no rule of the ASL '
            f'-> timm TResNet key map, e.g. {unknown[:5]}')
    if len(set(expected)) != len(expected):
        raise WeightsKeyError(
            'ASL checkpoint: two keys map to the same timm name')
    out = OrderedDict(checkpoint_filter_fn(kept, None))
    if list(out) != expected:
        wrong = [(a, b) for a, b in zip(out, expected) if a != b][:3]
        raise RuntimeError(
            "timm's TResNet checkpoint filter no longer gives the names of "
            f'the ASL key map, e.g. {wrong}: update '
            'spn_mm/converters/asl_tresnet.py')
    return out
