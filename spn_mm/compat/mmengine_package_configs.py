"""``_base_ = 'spn_mm::<config>'`` in mmengine 0.10.x configs.

mmengine only resolves ``pkg::`` bases for packages in its
``MODULE2PACKAGE`` table and only for paths with a folder part (no upstream
hook to register a package). Fix: add ``spn_mm`` to the table and accept
top-level config names (``spn_mm::spn_places2.py``) for spn_mm only; every
other package resolves through mmengine's own function.
"""
from ._versions import in_range

UPSTREAM = 'none (mmengine has no API to register a config package)'
APPLIES_TO = 'mmengine 0.10.x'


def applies() -> bool:
    return in_range('mmengine', '0.10.0', '0.10.99')


def apply() -> None:
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


