"""Inference precision of an SPN generator: fp32, bf16 or fp16.

One helper for every inference entry point (:class:`SPNInpainter`,
``tools/inpaint.py --precision``, ``SPNInpaintor`` through
``test_cfg=dict(precision=..., channels_last=...)`` for ``tools/test.py``,
the web demo):

* ``'fp32'``: the reference path (fp32 weights and activations);
* ``'bf16'``: ``torch.autocast`` with bfloat16 on CPU or CUDA (weights stay
  fp32; autocast keeps normalisations and reductions in fp32);
* ``'fp16'``: ``torch.autocast`` with float16, CUDA only.

``channels_last`` (NHWC activations and weights, same values and
state_dict keys) defaults to on for bf16/fp16 and for fp32 on CUDA; bf16
convolutions on CPU are slow in NCHW (measured: benchmarks/README.md).
"""
import contextlib
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

PRECISIONS = ('fp32', 'bf16', 'fp16')
_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def check_precision(precision: str,
                    device: Union[str, torch.device],
                    channels_last: Optional[bool] = None) -> Tuple[str, bool]:
    """Validate a precision request for a device.

    Args:
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        device (str | torch.device): Where the model runs.
        channels_last (bool, optional): None picks the default (see module
            doc).

    Returns:
        tuple[str, bool]: ``(precision, channels_last)``.
    """
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision == 'fp16' and device.type != 'cuda':
        raise ValueError(
            "precision='fp16' needs a CUDA device (CPU convolutions have no "
            f"fp16 kernels); use 'bf16' or 'fp32' on {device.type}")
    if precision == 'bf16' and device.type == 'cuda' and \
            not torch.cuda.is_bf16_supported():
        raise ValueError("precision='bf16' is not supported by this CUDA "
                         "device; use 'fp16' or 'fp32'")
    if channels_last is None:
        channels_last = precision != 'fp32' or device.type == 'cuda'
    return precision, bool(channels_last)


def precision_context(precision: str,
                      device: Union[str, torch.device]
                      ) -> contextlib.AbstractContextManager:
    """The autocast context of ``precision`` on ``device`` (a no-op for
    fp32)."""
    if precision == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(
        device_type=torch.device(device).type, dtype=_DTYPES[precision])


def to_memory_format(module: nn.Module, channels_last: bool) -> nn.Module:
    """Convert ``module``'s 4-D weights to channels_last (or back) in
    place; values and state_dict keys are unchanged."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return module.to(memory_format=fmt)


def as_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` (B, C, H, W) in channels_last (or contiguous) layout."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return x.contiguous(memory_format=fmt)
