"""Catalogue rows of the teacher / VGG / Inception / LPIPS weight files
(docs/reliability.md): a truncated or foreign file and NaN weights give a
one-line error naming the config field and the file, through the public
loaders the models and metrics use."""
import pytest
import torch

from spn_mm.evaluation import SPNFIDInception, build_lpips
from spn_mm.models.losses.vgg_extractor import load_vgg19_features_state
from spn_mm.models.teachers.teacher_checkpoint import load_teacher_state_dict
from spn_mm.utils.weights_io import WeightsFileError


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('rel_weights')
    state = {'0.weight': torch.ones(2, 3, 3, 3), '0.bias': torch.zeros(2)}
    good = root / 'good.pth'
    torch.save(state, good)
    truncated = root / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:100])
    foreign = root / 'foreign.pth'
    foreign.write_text('not weights\n')
    nan = root / 'nan.pth'
    torch.save({'0.weight': torch.full((2, 3, 3, 3), float('nan')),
                '0.bias': torch.zeros(2)}, nan)
    return dict(truncated=str(truncated), foreign=str(foreign), nan=str(nan))


LOADERS = {
    'vgg': lambda p: load_vgg19_features_state(p, 'model.loss_percep.vgg_path'),
    'teacher': lambda p: load_teacher_state_dict(p, 'model.teacher.checkpoint'),
    'inception': lambda p: SPNFIDInception(weights_path=p),
    'lpips': lambda p: build_lpips(backbone_path=p),
}
FIELDS = {
    'vgg': 'model.loss_percep.vgg_path',
    'teacher': 'model.teacher.checkpoint',
    'inception': 'fid_cfg.inception_path',
    'lpips': 'lpips_cfg.backbone_path',
}


# Inception (slow to build, ~3 s) only with a truncated file: all four
# loaders share load_weights_file / check_finite.
CASES = [(k, v) for k in ('vgg', 'teacher', 'lpips')
         for v in ('truncated', 'foreign', 'nan')] + [('inception',
                                                        'truncated')]


@pytest.mark.parametrize('kind,variant', CASES)
def test_damaged_weight_file_one_line(files, kind, variant):
    with pytest.raises(WeightsFileError) as info:
        LOADERS[kind](files[variant])
    msg = str(info.value)
    assert '\n' not in msg and FIELDS[kind] in msg, msg
    assert files[variant] in msg
    assert ('NaN/inf' if variant == 'nan' else 'truncated or not') in msg
