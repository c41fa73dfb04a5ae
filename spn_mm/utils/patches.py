"""Fixes for known bugs of the pinned stack, applied at ``import spn_mm``.

They live here (not in tools/) so that every config with
``custom_imports=dict(imports=['spn_mm'])`` benefits, including mmagic's own
``tools/train.py``/``tools/test.py``.

* **mmengine 0.10.7 + torch >= 2.6** (open-mmlab/mmengine#1655): mmengine's
  local checkpoint loader calls ``torch.load`` without ``weights_only``; torch
  then refuses mmengine's own checkpoints (``HistoryBuffer`` in the message
  hub) on ``--resume``, ``load_from`` and ``tools/test.py CKPT``. We
  re-register the local-file scheme of mmengine's ``CheckpointLoader`` with
  ``weights_only=False`` (the behaviour mmengine > 0.10.7 adopted in PR #1670).
  Only load checkpoints you trust, as with any pickle.
* **mmagic 1.2.0 ``generation_init_weights``** (open-mmlab/mmagic#2109): the
  Runner's ``init_weights()`` crashes with ``UnboundLocalError: init_info``
  for mmagic's PatchGAN / soft-mask discriminators and CycleGAN/Pix2Pix
  generators. We replace the function (everywhere it was imported by name)
  with one that only records init info for layers it initialised.
* **Atomic checkpoints**: mmengine's local file backend writes checkpoints in
  place, so a run killed mid-write leaves a truncated ``iter_N.pth`` that
  ``--resume`` then picks. ``LocalBackend.put`` now writes to a temporary file
  in the same folder and renames it (``os.replace``) when complete.
* **``_base_ = 'spn_mm::<config>'``**: mmengine only resolves ``pkg::`` bases
  for packages in its ``MODULE2PACKAGE`` table and only for paths with a
  folder part. We add ``spn_mm`` to the table and accept top-level config
  names (``spn_mm::spn_places2.py``) for spn_mm.
"""
import os
import os.path as osp
import sys
import tempfile
from typing import Any, Callable, Optional

import torch

_APPLIED = False


def _load_from_local_trusted(filename: str, map_location: Any = None):
    """mmengine's local loader, with ``weights_only=False`` (see module doc)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def patch_mmengine_checkpoint_loading() -> None:
    """Make mmengine's local checkpoint loading work under torch >= 2.6."""
    from mmengine.runner import checkpoint as ckpt_mod
    ckpt_mod.CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local_trusted, force=True)
    ckpt_mod.load_from_local = _load_from_local_trusted


def _make_fixed_generation_init_weights() -> Callable:
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


def patch_mmagic_generation_init_weights() -> Optional[Callable]:
    """Replace mmagic's ``generation_init_weights`` wherever it is bound."""
    import mmagic.models  # noqa: F401 (imports every module that binds it)
    from mmagic.models.utils import model_utils
    original = getattr(model_utils, 'generation_init_weights', None)
    if original is None:
        return None
    fixed = _make_fixed_generation_init_weights()
    for name, mod in list(sys.modules.items()):
        if not name.startswith('mmagic') or mod is None:
            continue
        if getattr(mod, 'generation_init_weights', None) is original:
            setattr(mod, 'generation_init_weights', fixed)
    return fixed


def _atomic_put(self, obj: bytes, filepath) -> None:
    """Write ``obj`` to ``filepath`` atomically (temp file + rename)."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(filepath) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def patch_atomic_local_writes() -> None:
    """Make mmengine's local ``put`` (checkpoints) atomic."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    LocalBackend.put = _atomic_put


def patch_mmengine_external_configs() -> None:
    """Let ``_base_ = 'spn_mm::<config>'`` resolve to installed configs."""
    from mmengine.config import config as config_mod
    from mmengine.config import utils as cfg_utils
    cfg_utils.MODULE2PACKAGE.setdefault('spn_mm', 'spn_mm')
    original = cfg_utils._get_package_and_cfg_path
    if getattr(original, '_spn_mm_patched', False):
        return

    def _get_package_and_cfg_path(cfg_path: str):
        package, sep, rel = cfg_path.partition('::')
        if sep and package == 'spn_mm' and rel and '::' not in rel:
            return 'spn_mm', rel
        return original(cfg_path)

    _get_package_and_cfg_path._spn_mm_patched = True
    cfg_utils._get_package_and_cfg_path = _get_package_and_cfg_path
    config_mod._get_package_and_cfg_path = _get_package_and_cfg_path


def apply_patches() -> None:
    """Apply every stack fix once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    patch_mmengine_checkpoint_loading()
    patch_mmengine_external_configs()
    patch_atomic_local_writes()
    patch_mmagic_generation_init_weights()
    _APPLIED = True
