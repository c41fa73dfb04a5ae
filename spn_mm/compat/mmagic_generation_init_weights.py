"""mmagic 1.2.0: ``init_weights()`` crashes for its PatchGAN discriminators.

Upstream: open-mmlab/mmagic#2109. ``generation_init_weights`` raises
``UnboundLocalError: init_info`` inside the Runner's ``init_weights()`` for
mmagic's PatchGAN / soft-mask discriminators and CycleGAN/Pix2Pix
generators. Fix: the modules that bind the function by name (listed in
:data:`BINDERS`, checked to hold mmagic's original) get a copy that only
records init info for the layers it initialised; nothing else changes.
"""
import importlib
from typing import Callable

import torch

from ._versions import in_range

UPSTREAM = 'open-mmlab/mmagic#2109'
APPLIES_TO = 'mmagic == 1.2.0'
#: mmagic modules that import ``generation_init_weights`` by name.
BINDERS = (
    'mmagic.models.utils.model_utils',
    'mmagic.models.utils',
    'mmagic.models.archs.patch_disc',
    'mmagic.models.archs.smpatch_disc',
    'mmagic.models.editors.pix2pix.pix2pix_generator',
    'mmagic.models.editors.cyclegan.cyclegan_generator',
)
_FIXED = {}


def applies() -> bool:
    return in_range('mmagic', '1.2.0', '1.2.0')


def fixed_generation_init_weights() -> Callable:
    """mmagic's ``generation_init_weights`` with the mmagic#2109 fix."""
    from mmengine.model.weight_init import (kaiming_init, normal_init,
                                            update_init_info, xavier_init)
    from torch.nn import init

    def generation_init_weights(module: torch.nn.Module,
                                init_type: str = 'normal',
                                init_gain: float = 0.02) -> None:
        """mmagic's generation init (normal | xavier | kaiming | orthogonal).

        Identical to mmagic 1.2.0 except that ``update_init_info`` is only
        called for the Conv/Linear/BatchNorm2d layers actually initialised
        (fixes mmagic#2109).
        """

        def init_func(m: torch.nn.Module) -> None:
            classname = m.__class__.__name__
            if hasattr(m, 'weight') and (classname.find('Conv') != -1
                                         or classname.find('Linear') != -1):
                if init_type == 'normal':
                    normal_init(m, 0.0, init_gain)
                elif init_type == 'xavier':
                    xavier_init(m, gain=init_gain, distribution='normal')
                elif init_type == 'kaiming':
                    kaiming_init(
                        m,
                        a=0,
                        mode='fan_in',
                        nonlinearity='leaky_relu',
                        distribution='normal')
                elif init_type == 'orthogonal':
                    init.orthogonal_(m.weight, gain=init_gain)
                    init.constant_(m.bias.data, 0.0)
                else:
                    raise NotImplementedError(
                        f"Initialization method '{init_type}' is not "
                        'implemented')
                info = (f'Initialize {m.__class__.__name__} by '
                        f"'init_type' {init_type}.")
            elif classname.find('BatchNorm2d') != -1:
                normal_init(m, 1.0, init_gain)
                info = (f'{m.__class__.__name__} is initialized by '
                        f'normal init with std {init_gain}')
            else:
                return
            if hasattr(m, '_params_init_info'):
                update_init_info(m, init_info=info)

        module.apply(init_func)

    return generation_init_weights



def apply() -> None:
    """Re-bind the fixed function in :data:`BINDERS` (idempotent)."""
    original = importlib.import_module(BINDERS[0]).generation_init_weights
    if original is _FIXED.get('fn'):
        return
    fixed = _FIXED.setdefault('fn', fixed_generation_init_weights())
    for name in BINDERS:
        module = importlib.import_module(name)
        if getattr(module, 'generation_init_weights', None) is not original:
            raise RuntimeError(
                f'spn_mm.compat: {name}.generation_init_weights is not '
                'mmagic\'s function; this fix targets mmagic 1.2.0 only')
        module.generation_init_weights = fixed
