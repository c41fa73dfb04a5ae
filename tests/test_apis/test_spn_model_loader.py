import os.path as osp

import pytest
import torch
from mmengine.config import Config

from spn_mm.apis import (build_inference_model, init_spn_model,
                         load_inference_checkpoint)
from spn_mm.apis.model_loader import resolve_device
from test_apis.spn_api_fixtures import (REPO_ROOT, TINY_DET, TINY_PROB,
                                        build_training_model,
                                        make_tiny_checkpoint)


@pytest.fixture(scope='module')
def det_ckpt(tmp_path_factory):
    return make_tiny_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'det.pth'), 'det', seed=3)


def _gen_state(path):
    sd = torch.load(path, weights_only=False)['state_dict']
    return {
        k[len('generator.'):]: v
        for k, v in sd.items() if k.startswith('generator.')
    }


def test_inference_model_has_no_training_parts():
    model = build_inference_model(TINY_PROB)
    assert model.teacher is None and getattr(model, 'disc', None) is None
    assert model.loss_percep is None and model.prior_distill is None
    assert not model.training
    assert model.generator.variational is not None


def test_loads_generator_strictly_and_ignores_disc(det_ckpt):
    model = init_spn_model(TINY_DET, det_ckpt)
    expected = _gen_state(det_ckpt)
    got = model.generator.state_dict()
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert torch.equal(got[k], v), k
    report = model.load_report
    assert len(report['loaded']) == len(expected)
    assert report['ignored_disc'] and all(
        k.startswith('disc.') for k in report['ignored_disc'])
    assert report['ignored_teacher'] == []


def test_teacher_and_wrapper_keys(tmp_path, det_ckpt):
    sd = torch.load(det_ckpt, weights_only=False)['state_dict']
    sd = {'module.' + k: v for k, v in sd.items()}
    sd['module.teacher.body.weight'] = torch.zeros(3)
    sd['data_preprocessor.mean'] = torch.zeros(3)
    path = str(tmp_path / 'wrapped.pth')
    torch.save(sd, path)  # bare state dict, no 'state_dict' wrapper
    model = init_spn_model(TINY_DET, path)
    report = model.load_report
    assert report['ignored_teacher'] == ['teacher.body.weight']
    assert report['ignored_other'] == ['data_preprocessor.mean']


def test_bare_generator_state_dict(tmp_path, det_ckpt):
    path = str(tmp_path / 'gen.pth')
    torch.save(_gen_state(det_ckpt), path)
    model = init_spn_model(TINY_DET, path)
    assert len(model.load_report['loaded']) == len(_gen_state(det_ckpt))


def test_missing_generator_key_is_an_error(tmp_path, det_ckpt):
    ckpt = torch.load(det_ckpt, weights_only=False)
    key = 'generator.image_generator.out_conv.bias'
    del ckpt['state_dict'][key]
    path = str(tmp_path / 'broken.pth')
    torch.save(ckpt, path)
    with pytest.raises(
            ValueError, match=r'1 missing: '
            r'image_generator\.out_conv\.bias'):
        init_spn_model(TINY_DET, path)


def test_det_checkpoint_into_prob_config(det_ckpt):
    with pytest.raises(ValueError, match='deterministic vs probabilistic'):
        init_spn_model(TINY_PROB, det_ckpt)


def test_official_or_empty_checkpoint(tmp_path):
    path = str(tmp_path / 'official.pt')
    torch.save({'G_Net': {'encoder.1.weight': torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match='spn_official_to_mmagic.py'):
        init_spn_model(TINY_DET, path)
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        init_spn_model(TINY_DET, str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='config file not found'):
        init_spn_model(str(tmp_path / 'nope.py'))


@pytest.mark.parametrize('config', ['spn_places2.py', 'spn_paris_prob.py'])
def test_full_configs_build_without_teacher_or_vgg_files(config):
    path = osp.join(REPO_ROOT, 'configs', config)
    cfg = Config.fromfile(path)
    # the configs name weight files that do not exist here
    teacher_ckpt = cfg.model.teacher.get('checkpoint')
    assert teacher_ckpt and not osp.exists(teacher_ckpt)
    model = build_inference_model(path)
    assert model.teacher is None
    assert sum(p.numel() for p in model.generator.parameters()) == {
        'spn_places2.py': 50_702_643,
        'spn_paris_prob.py': 68_512_883
    }[config]


def test_checkpoint_from_training_model_round_trip(tmp_path):
    # the full training model (with teacher) saves teacher-free checkpoints
    model = build_training_model(TINY_DET, seed=1)
    assert not any('teacher.' in k for k in model.state_dict())
    path = str(tmp_path / 'm.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    loaded = init_spn_model(TINY_DET, path)
    w = 'image_generator.out_conv.weight'
    assert torch.equal(loaded.generator.state_dict()[w],
                       model.generator.state_dict()[w])


def test_resolve_device():
    assert resolve_device('cpu') == torch.device('cpu')
    with pytest.raises(ValueError, match='device'):
        resolve_device('tpu')
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            resolve_device('cuda')


def test_load_in_memory_state_dict(det_ckpt):
    model = build_inference_model(TINY_DET)
    sd = torch.load(det_ckpt, weights_only=False)
    report = load_inference_checkpoint(model, sd)
    assert report['loaded'] == sorted(_gen_state(det_ckpt))
    with pytest.raises(ValueError, match='expected a state dict'):
        load_inference_checkpoint(model, {'state_dict': {}})


def test_generator_saved_under_its_own_ddp_wrapper_loads(det_ckpt):
    """mmengine's MMSeparateDistributedDataParallel wraps the generator on
    its own, so a checkpoint saved in DDP has ``generator.module.*`` keys."""
    sd = torch.load(det_ckpt, weights_only=False)['state_dict']
    wrapped = {
        ('generator.module.' + k[len('generator.'):]
         if k.startswith('generator.') else k): v
        for k, v in sd.items()
    }
    assert any(k.startswith('generator.module.') for k in wrapped)
    model = build_inference_model(TINY_DET)
    load_inference_checkpoint(model, {'state_dict': wrapped})
    expected = _gen_state(det_ckpt)
    got = model.generator.state_dict()
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(got[key], value), key


def test_keep_teacher_loads_teacher_weights_with_clear_error():
    """Only visualising the teacher needs its weights."""
    with pytest.raises(FileNotFoundError, match='model.teacher.checkpoint'):
        build_inference_model(
            osp.join(REPO_ROOT, 'configs', 'spn_places2.py'),
            keep_teacher=True)
    model = build_inference_model(TINY_DET, keep_teacher=True)
    assert model.prior_distill is not None
    assert model.teacher is model.prior_distill.teacher
