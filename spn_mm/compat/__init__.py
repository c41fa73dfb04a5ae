"""Scoped, version-gated fixes for the pinned stack, applied at
``import spn_mm`` (so every config with ``custom_imports=['spn_mm']`` gets
them, mmagic's own tools included).

One module per fix; each names its upstream issue (``UPSTREAM``), the
versions it applies to (``APPLIES_TO``, checked by ``applies()``: outside
that range it is skipped) and changes nothing beyond the fix:

* :mod:`.mmengine_checkpoint_loading` -- mmengine's checkpoints load under
  torch >= 2.6 (only mmengine's local checkpoint loader changes);
* :mod:`.mmengine_atomic_checkpoints` -- checkpoint files are written
  atomically (other files unchanged);
* :mod:`.mmagic_generation_init_weights` -- mmagic#2109;
* :mod:`.mmengine_package_configs` -- ``_base_ = 'spn_mm::...'``.
"""
from typing import Dict

from . import (mmagic_generation_init_weights, mmengine_atomic_checkpoints,
               mmengine_checkpoint_loading, mmengine_package_configs)

FIXES = (mmengine_checkpoint_loading, mmengine_package_configs,
         mmengine_atomic_checkpoints, mmagic_generation_init_weights)
_STATUS: Dict[str, bool] = {}


def apply_all() -> Dict[str, bool]:
    """Apply every fix whose version range matches (idempotent).

    Returns:
        dict[str, bool]: fix module name -> applied.
    """
    for fix in FIXES:
        name = fix.__name__.rsplit('.', 1)[-1]
        if name not in _STATUS:
            _STATUS[name] = bool(fix.applies())
            if _STATUS[name]:
                fix.apply()
    return dict(_STATUS)


__all__ = ['FIXES', 'apply_all']
