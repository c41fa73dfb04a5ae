"""Mixed-precision training on CPU: :class:`SPNAutocastOptimWrapper`.

mmengine's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU device (it always
builds a ``GradScaler``). bfloat16 has fp32's exponent range, so it needs no
loss scaling: this wrapper only runs the forward of its ``optim_context``
under ``mmengine.runner.amp.autocast`` on the device of the wrapped model
(CPU or CUDA) and otherwise is a plain ``OptimWrapper`` (parameters,
gradients and optimizer state stay fp32).

``SPNInpaintor.train_step`` runs the teacher, the generator, the
discriminator and the VGG losses inside ``optim_context``, so all of them
share one autocast.
"""
from contextlib import contextmanager
from typing import Iterator, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from spn_mm.registry import OPTIM_WRAPPERS

_DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


@OPTIM_WRAPPERS.register_module()
class SPNAutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose ``optim_context`` enables autocast.

    No loss scaling: use it with bfloat16 (CPU, or CUDA); for float16 on
    CUDA use mmengine's ``AmpOptimWrapper`` (GradScaler).

    Args:
        dtype (str | torch.dtype): Autocast dtype, ``'bfloat16'`` (CPU only
            supports this one). Default: ``'bfloat16'``.
        **kwargs: Passed to ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ValueError('SPNAutocastOptimWrapper: dtype must be one '
                                 f'of {sorted(_DTYPES)}, got {dtype!r}')
            dtype = _DTYPES[dtype]
        if dtype not in _DTYPES.values():
            raise ValueError('SPNAutocastOptimWrapper: dtype must be '
                             f'bfloat16 or float16, got {dtype!r}')
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """``OptimWrapper.optim_context`` + autocast on ``model``'s device.

        Args:
            model (nn.Module): The model the losses come from.
        """
        param = next(model.parameters(), None)
        device_type = 'cpu' if param is None else param.device.type
        with super().optim_context(model), autocast(
                device_type=device_type, dtype=self.cast_dtype):
            yield


def amp_optim_cfg(cfg: Config, cuda: bool) -> str:
    """Switch every optim wrapper of ``cfg`` to mixed precision in place.

    CUDA: mmengine's ``AmpOptimWrapper`` (float16 with a dynamic
    ``GradScaler``; a config may set ``dtype='bfloat16'``). CPU:
    :class:`SPNAutocastOptimWrapper` (bfloat16, no scaler).

    Args:
        cfg (Config): A training config with ``optim_wrapper`` (a single
            wrapper or a ``MultiOptimWrapperConstructor`` dict of them).
        cuda (bool): Whether training runs on CUDA.

    Returns:
        str: One line describing what was enabled.
    """

    def switch(wrapper: dict) -> None:
        if cuda:
            wrapper['type'] = 'AmpOptimWrapper'
            wrapper.setdefault('loss_scale', 'dynamic')
        else:
            wrapper['type'] = 'SPNAutocastOptimWrapper'
            wrapper.pop('loss_scale', None)
            wrapper['dtype'] = 'bfloat16'

    optim_wrapper = cfg.optim_wrapper
    if 'optimizer' in optim_wrapper:
        switch(optim_wrapper)
    else:
        for value in optim_wrapper.values():
            if isinstance(value, dict) and 'optimizer' in value:
                switch(value)
    if cuda:
        return ('AMP training enabled for every optimizer: AmpOptimWrapper '
                '(float16 autocast + dynamic GradScaler unless dtype is set)')
    return ('AMP training enabled for every optimizer: bfloat16 autocast on '
            'CPU (SPNAutocastOptimWrapper, no loss scaling)')
