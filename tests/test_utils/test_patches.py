"""Stack fixes applied at ``import spn_mm``."""
import os.path as osp

import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint


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
