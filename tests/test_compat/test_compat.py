"""Stack fixes of spn_mm.compat, applied at ``import spn_mm``."""
import os.path as osp
import pickle
import subprocess
import sys

import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint
from utils import REPO_ROOT


def test_mmengine_checkpoint_with_objects_loads(tmp_path):
    """torch>=2.6 refuses mmengine checkpoints without the fix."""
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'buf': HistoryBuffer()}}, path)
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_missing_checkpoint_error(tmp_path):
    import pytest
    with pytest.raises(FileNotFoundError, match='can not be found'):
        _load_checkpoint(str(tmp_path / 'missing.pth'))


def test_mmagic_discriminator_init_weights_does_not_crash():
    """mmagic#2109: SoftMaskPatchDiscriminator.init_weights under mmengine."""
    from mmagic.registry import MODELS
    for cfg in (dict(type='SoftMaskPatchDiscriminator', in_channels=3,
                     base_channels=8, num_conv=2, with_spectral_norm=True),
                dict(type='PatchDiscriminator', in_channels=3,
                     base_channels=8, num_conv=2)):
        disc = MODELS.build(cfg)
        # the Runner wraps init_weights this way: BaseModule sets
        # _params_init_info on every submodule first
        disc.init_weights()
        conv = [m for m in disc.modules()
                if isinstance(m, torch.nn.Conv2d)][0]
        assert torch.isfinite(conv.weight).all()


def test_external_spn_mm_base_resolves_to_installed_configs():
    from mmengine.config.utils import _get_package_and_cfg_path
    pkg, rel = _get_package_and_cfg_path('spn_mm::_base_/default_runtime.py')
    assert pkg == 'spn_mm' and rel == '_base_/default_runtime.py'
    pkg, rel = _get_package_and_cfg_path('spn_mm::spn_places2.py')
    assert pkg == 'spn_mm' and rel == 'spn_places2.py'
    assert osp.basename(rel) == 'spn_places2.py'


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A failing write leaves the previous checkpoint intact, no temp file."""
    import pytest
    from mmengine.runner.checkpoint import save_checkpoint
    path = str(tmp_path / 'iter_1.pth')
    save_checkpoint({'state_dict': {'w': torch.zeros(1)}}, path)

    class Boom(Exception):
        pass

    def broken_fsync(fd):
        raise Boom()

    monkeypatch.setattr('os.fsync', broken_fsync)
    with pytest.raises(Boom):
        save_checkpoint({'state_dict': {'w': torch.ones(1)}}, path)
    monkeypatch.undo()
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.zeros(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_1.pth']


class _NotATensor:
    """A pickled object that torch's weights_only loader must refuse."""


def test_plain_torch_load_keeps_weights_only(tmp_path):
    """The fix is scoped to mmengine's loader: torch.load stays strict."""
    import pytest
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _NotATensor()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    # mmengine's checkpoint loading (trusted checkpoints) still reads it
    assert isinstance(_load_checkpoint(path)['x'], _NotATensor)


def test_non_checkpoint_files_use_mmengine_put(tmp_path, monkeypatch):
    """Only checkpoint files go through the atomic writer."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    from spn_mm.compat import mmengine_atomic_checkpoints as atomic
    calls = []
    monkeypatch.setattr(atomic, 'atomic_write',
                        lambda obj, path: calls.append(path))
    backend = LocalBackend()
    backend.put(b'x', str(tmp_path / 'log.json'))
    backend.put(b'x', str(tmp_path / 'iter_3.pth'))
    assert calls == [str(tmp_path / 'iter_3.pth')]
    assert (tmp_path / 'log.json').read_bytes() == b'x'


def test_every_fix_names_upstream_and_versions():
    from spn_mm import compat
    status = compat.apply_all()
    assert set(status) == {f.__name__.rsplit('.', 1)[-1] for f in compat.FIXES}
    assert all(status.values())  # the pinned stack needs all four
    for fix in compat.FIXES:
        assert fix.UPSTREAM and fix.APPLIES_TO and fix.__doc__


SNAPSHOT = r"""
import inspect, sys
import mmengine.config, mmengine.fileio, mmengine.runner  # noqa
import mmagic.models  # noqa

def snapshot():
    snap = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(('mmengine', 'mmagic')):
            continue
        for k, v in list(vars(mod).items()):
            snap[(name, k)] = id(v)
            if inspect.isclass(v) and getattr(v, '__module__', '') == name:
                for ck, cv in list(vars(v).items()):
                    snap[(name, f'{k}.{ck}')] = id(cv)
    return snap

before = snapshot()
import spn_mm  # noqa
after = snapshot()
for (m, k), i in sorted(before.items()):
    if after.get((m, k), i) != i:
        print(f'CHANGED {m}.{k}')
"""

# what the four compat fixes replace, and nothing else
DOCUMENTED_CHANGES = {
    'mmengine.runner.checkpoint.load_from_local',
    'mmengine.runner.checkpoint.CheckpointLoader._schemes',
    'mmengine.fileio.backends.local_backend.LocalBackend.put',
    'mmengine.config.utils._get_package_and_cfg_path',
    'mmengine.config.config._get_package_and_cfg_path',
    'mmagic.models.utils.generation_init_weights',
    'mmagic.models.utils.model_utils.generation_init_weights',
    'mmagic.models.archs.patch_disc.generation_init_weights',
    'mmagic.models.archs.smpatch_disc.generation_init_weights',
    'mmagic.models.editors.pix2pix.pix2pix_generator.generation_init_weights',
    'mmagic.models.editors.cyclegan.cyclegan_generator.'
    'generation_init_weights',
}


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_import_changes_only_the_documented_fixes():
    out = _python(SNAPSHOT)
    changed = {line[len('CHANGED '):] for line in out.splitlines()
               if line.startswith('CHANGED ')}
    assert changed == DOCUMENTED_CHANGES


def test_fixes_apply_through_a_config_as_mmagic_tools_load_it(tmp_path):
    """mmagic's tools/train.py never imports spn_mm: Config.fromfile of a
    config with custom_imports=['spn_mm'] applies the fixes."""
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("custom_imports = dict(imports=['spn_mm'], "
                   'allow_failed_imports=False)\n')
    out = _python(
        'from mmengine.config import Config\n'
        f'Config.fromfile({str(cfg)!r})\n'
        'import mmengine.runner.checkpoint as c\n'
        'from mmengine.fileio.backends.local_backend import LocalBackend\n'
        'from mmagic.models.archs import patch_disc\n'
        'print(c.load_from_local.__module__)\n'
        'print(LocalBackend.put.__module__)\n'
        'print(patch_disc.generation_init_weights.__module__)\n')
    assert out.split()[-3:] == [
        'spn_mm.compat.mmengine_checkpoint_loading',
        'spn_mm.compat.mmengine_atomic_checkpoints',
        'spn_mm.compat.mmagic_generation_init_weights'
    ]
