"""Environment report: versions of the OpenMMLab stack and mmcv-ops status."""
import importlib
import importlib.metadata as md
from collections import OrderedDict


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return 'not installed'


def mmcv_ops_available() -> bool:
    """Whether mmcv's compiled ops (``mmcv._ext``) import and run on CPU."""
    try:
        import torch
        from mmcv.ops import nms
        boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
        scores = torch.tensor([0.9, 0.8])
        nms(boxes, scores, 0.5)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def collect_env() -> 'OrderedDict[str, str]':
    """Collect mmengine's environment info plus the SPN stack versions.

    Returns:
        OrderedDict: name -> value, printable with ``key: value`` lines.
    """
    from mmengine.utils.dl_utils import collect_env as _collect_base
    env = _collect_base()
    for dist, key in [('torch', 'torch'), ('torchvision', 'torchvision'),
                      ('numpy', 'numpy'), ('mmengine', 'MMEngine'),
                      ('mmcv', 'MMCV'), ('mmagic', 'MMagic'),
                      ('mmpretrain', 'MMPretrain'),
                      ('mmsegmentation', 'MMSegmentation'),
                      ('timm', 'timm')]:
        env[key] = _version(dist)
    env['MMCV ops'] = 'available' if mmcv_ops_available() else 'MISSING'
    spn = importlib.import_module('spn_mm.version')
    env['spn_mm'] = spn.__version__
    return env


if __name__ == '__main__':
    for name, val in collect_env().items():
        print(f'{name}: {val}')
