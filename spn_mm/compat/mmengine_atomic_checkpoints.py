"""Atomic checkpoint files for mmengine 0.10.x.

mmengine's local file backend writes checkpoints in place, so a run killed
mid-write leaves a truncated ``iter_N.pth`` that ``--resume`` then picks
(no upstream fix in 0.10.x). Fix: ``LocalBackend.put`` writes **checkpoint
files** (``*.pth``, ``*.pt``, ``*.ckpt`` and ``last_checkpoint``) to a
temporary file in the same folder and renames it when complete; every other
file is written by mmengine's own ``put`` unchanged.
"""
import os
import os.path as osp
import tempfile

from ._versions import in_range

UPSTREAM = 'none (mmengine 0.10.x writes checkpoints in place)'
APPLIES_TO = 'mmengine 0.10.x'
CHECKPOINT_SUFFIXES = ('.pth', '.pt', '.ckpt')
_ORIGINAL = {}


def applies() -> bool:
    return in_range('mmengine', '0.10.0', '0.10.99')


def is_checkpoint_file(path: str) -> bool:
    name = osp.basename(str(path))
    return name.endswith(CHECKPOINT_SUFFIXES) or name == 'last_checkpoint'


def atomic_write(obj: bytes, filepath: str) -> None:
    """Write ``obj`` to ``filepath`` through a temp file + ``os.replace``."""
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


def apply() -> None:
    from mmengine.fileio.backends.local_backend import LocalBackend
    if 'put' in _ORIGINAL:
        return
    original = _ORIGINAL['put'] = LocalBackend.put

    def put(self, obj: bytes, filepath) -> None:
        if is_checkpoint_file(filepath):
            atomic_write(obj, str(filepath))
        else:
            original(self, obj, filepath)

    put.__doc__ = original.__doc__
    LocalBackend.put = put
