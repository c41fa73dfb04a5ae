import warnings

import pytest
import torch
import torch.nn.functional as F

from spn_mm.models.losses import (PerceptualDiversityLoss, SPNPerceptualLoss,
                                  SPNVGG19FeatureExtractor, SPNVGGFeatures,
                                  clear_vgg19_cache, get_vgg19_extractor)
from spn_mm.registry import MODELS

# features indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
RELU_IDX = [1, 6, 11, 20, 29]
WEIGHTS = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.]


def _rand_loss(cls, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return cls(allow_random=True, **kwargs)


def _manual_feats(img01):
    """Independent VGG pass: run torchvision's features one by one."""
    features = get_vgg19_extractor(None, True).features
    out, x = [], img01
    for i, layer in enumerate(features):
        x = layer(x)
        if i in RELU_IDX:
            out.append(x)
    return out


def _images(n=2, size=32, seed=0):
    """Images in [0, 1], the range the SPN VGG losses expect."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g)


def test_random_vgg_warns_loudly_and_requires_opt_in():
    clear_vgg19_cache()
    with pytest.warns(UserWarning, match='RANDOM weights'):
        SPNPerceptualLoss(allow_random=True).get_extractor()
    with pytest.raises(ValueError, match='vgg_path'):
        SPNVGGFeatures(vgg_path=None, allow_random=False)
    # without weights a loss takes feature lists only, and says so
    no_vgg = SPNPerceptualLoss(vgg_path=None, allow_random=False)
    with pytest.raises(ValueError, match='vgg_path'):
        no_vgg(_images(), _images())
    with pytest.raises(ValueError, match='norm_img'):
        PerceptualDiversityLoss(norm_img=True)


def test_missing_vgg_path_names_field_and_path(tmp_path):
    missing = str(tmp_path / 'nope' / 'vgg19.pth')
    # building never reads weights; the first use does
    loss = MODELS.build(dict(type='SPNPerceptualLoss', vgg_path=missing))
    with pytest.raises(FileNotFoundError, match='vgg_path') as err:
        loss.get_extractor()
    assert 'vgg19.pth' in str(err.value)
    with pytest.raises(FileNotFoundError, match='vgg_path'):
        PerceptualDiversityLoss(vgg_path=missing)(
            torch.rand(2, 3, 32, 32), mask=torch.ones(1, 1, 32, 32),
            num_samples=2)


def test_vgg_not_in_state_dict_frozen_and_shared():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        percep = MODELS.build(
            dict(type='SPNPerceptualLoss', allow_random=True))
        div = MODELS.build(
            dict(type='PerceptualDiversityLoss', allow_random=True))
    # nothing of the VGG is part of the loss modules
    assert percep.state_dict() == {} and div.state_dict() == {}
    assert list(percep.parameters()) == [] and list(div.parameters()) == []
    wrapper = torch.nn.ModuleDict(dict(percep=percep, div=div))
    assert len(wrapper.state_dict()) == 0
    # one shared frozen VGG
    vgg = percep.get_extractor('cpu')
    assert vgg is div.get_extractor('cpu')
    assert isinstance(vgg, SPNVGG19FeatureExtractor)
    assert all(not p.requires_grad for p in vgg.parameters())
    wrapper.train()
    vgg.train()
    assert not vgg.training
    # truncated after relu5_1 (index 29), no classifier
    assert len(vgg.features) == 30
    # one copy per device, made lazily from the CPU master
    meta = div.get_extractor('meta')
    assert meta is percep.get_extractor(torch.device('meta'))
    assert meta is not vgg and next(meta.parameters()).is_meta


def test_load_local_weights_torchvision_and_plain_layouts(tmp_path):
    rnd = get_vgg19_extractor(None, True).features.state_dict()
    scaled = {k: v * 0.5 + 0.01 for k, v in rnd.items()}
    tv_file = tmp_path / 'vgg19_tv.pth'
    tv_state = {f'features.{k}': v for k, v in scaled.items()}
    tv_state['classifier.6.bias'] = torch.zeros(3)  # ignored
    torch.save(tv_state, tv_file)
    plain_file = tmp_path / 'vgg19_features.pth'
    torch.save(scaled, plain_file)
    for path in (tv_file, plain_file):
        loss = SPNPerceptualLoss(vgg_path=str(path))
        vgg = loss.get_extractor('cpu')
        for k, v in vgg.features.state_dict().items():
            assert torch.equal(v, scaled[k]), k
        div = MODELS.build(
            dict(type='PerceptualDiversityLoss', vgg_path=str(path)))
        assert div.get_extractor('cpu') is vgg
    # incomplete file -> clear error
    bad_file = tmp_path / 'bad.pth'
    torch.save({'features.0.weight': scaled['0.weight']}, bad_file)
    with pytest.raises(KeyError, match='lacks'):
        SPNPerceptualLoss(vgg_path=str(bad_file)).get_extractor()
    clear_vgg19_cache()  # free the file-backed copies


def test_perceptual_value_matches_reference():
    loss_fn = _rand_loss(SPNPerceptualLoss)
    assert loss_fn.loss_weight == 10.
    pred, target = _images(seed=0), _images(seed=1)
    loss = loss_fn(pred, target)
    fp, ft = _manual_feats(pred), _manual_feats(target)
    ref = 10. * sum(w * (a - b).abs().mean()
                    for w, a, b in zip(WEIGHTS, fp, ft))
    assert torch.allclose(loss, ref, rtol=1e-5)


def test_perceptual_input_norm_and_feature_lists():
    pred, target = _images(seed=0), _images(seed=1)
    normed = _rand_loss(SPNPerceptualLoss, loss_weight=1., input_norm=True)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    fp = _manual_feats((pred - mean) / std)
    ft = _manual_feats((target - mean) / std)
    ref = sum(w * (a - b).abs().mean() for w, a, b in zip(WEIGHTS, fp, ft))
    assert torch.allclose(normed(pred, target), ref, rtol=1e-5)
    # pre-computed features give the same value
    assert torch.allclose(
        normed(normed.extract(pred), normed.extract(target)), ref, rtol=1e-5)
    # custom layer weights
    one = _rand_loss(
        SPNPerceptualLoss, loss_weight=1., layer_weights={'relu2_1': 2.})
    ref2 = 2. * (_manual_feats(pred)[1] - _manual_feats(
        target)[1]).abs().mean()
    assert torch.allclose(one(pred, target), ref2, rtol=1e-5)


def test_norm_img_accepts_minus_one_to_one_images():
    pred, target = _images(seed=0), _images(seed=1)
    unit = _rand_loss(SPNPerceptualLoss)
    signed = _rand_loss(SPNPerceptualLoss, norm_img=True)
    assert torch.allclose(
        signed(pred * 2 - 1, target * 2 - 1), unit(pred, target), rtol=1e-5)


def test_perceptual_k_repeat_and_gradients():
    loss_fn = _rand_loss(SPNPerceptualLoss)
    pred = torch.cat([_images(seed=0), _images(seed=2)]).requires_grad_()
    target = _images(seed=1).requires_grad_()
    loss = loss_fn(pred, target)
    assert torch.allclose(loss, loss_fn(pred, torch.cat([target, target])))
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert target.grad is None
    assert all(p.grad is None for p in loss_fn.get_extractor().parameters())


def _diversity_reference(f1, f2, mask, form, eps=1e-5):
    dists, areas = [], []
    for a, b in zip(f1, f2):
        m = F.interpolate(mask, size=a.shape[-2:], mode='nearest')
        dists.append((a * m - b * m).abs().mean())
        areas.append(m.mean())
    if form == 'official':
        return 1. / (sum(d / ar for d, ar in zip(dists, areas)) + eps)
    return sum(1. / (d + eps) for d in dists) / len(dists)


def _mask(n=2, size=32):
    mask = torch.zeros(n, 1, size, size)
    mask[:, :, 8:24, 4:20] = 1
    return mask


@pytest.mark.parametrize('form', ['paper', 'official'])
def test_diversity_value_matches_eq14(form):
    loss_fn = _rand_loss(PerceptualDiversityLoss, form=form)
    s1, s2, mask = _images(seed=3), _images(seed=4), _mask()
    ref = _diversity_reference(
        _manual_feats(s1), _manual_feats(s2), mask, form)
    loss = loss_fn(s1, s2, mask=mask)
    assert torch.allclose(loss, ref, rtol=1e-4)
    # stacked [s1; s2] with K inferred from the mask batch or given
    assert torch.allclose(loss_fn(torch.cat([s1, s2]), mask=mask), loss)
    assert torch.allclose(
        loss_fn(
            torch.cat([s1, s2]), mask=torch.cat([mask, mask]), num_samples=2),
        loss)
    # pre-computed feature lists
    assert torch.allclose(
        loss_fn(loss_fn.extract(s1), loss_fn.extract(s2), mask=mask), loss)


def test_diversity_three_samples_average_pairs_and_gradients():
    loss_fn = _rand_loss(PerceptualDiversityLoss, loss_weight=2.)
    s = [_images(seed=i).requires_grad_() for i in (5, 6, 7)]
    mask = _mask()
    loss = loss_fn(torch.cat(s), mask=mask, num_samples=3)
    pairs = [
        loss_fn(s[a], s[b], mask=mask) for a, b in ((0, 1), (0, 2), (1, 2))
    ]
    assert torch.allclose(loss, sum(pairs) / 3)
    loss.backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in s)


def test_diversity_errors():
    loss_fn = _rand_loss(PerceptualDiversityLoss)
    s, mask = _images(), _mask()
    with pytest.raises(ValueError, match='>= 2 samples'):
        loss_fn(s, mask=mask)  # batch B with a B mask -> K = 1
    with pytest.raises(ValueError, match='num_samples'):
        loss_fn(torch.cat([s, s]), mask=torch.cat([mask, mask]))
    with pytest.raises(ValueError, match='mask is required'):
        loss_fn(s, s)
    with pytest.raises(ValueError, match='form'):
        _rand_loss(PerceptualDiversityLoss, form='ratio')
    with pytest.raises(ValueError, match='feature maps'):
        loss_fn([s], [s], mask=mask)
