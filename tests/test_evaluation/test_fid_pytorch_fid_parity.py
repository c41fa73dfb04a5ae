"""FID features and folder FID against pytorch-fid (issue 14).

pytorch-fid's weights cannot be downloaded here, so one seeded random state
dict (BN statistics set from real photos) is loaded into both pytorch-fid's
``InceptionV3`` (its own constructor and loader, the URL replaced by the
local file) and the project's ``SPNFIDInception``.
"""
import cv2
import numpy as np
import pytest
import torch
from reference_nets import (photos, pytorch_fid_inception,
                            save_fid_inception_state, to_rgb01)

from spn_mm.evaluation import SPNFIDInception, folder_fid


@pytest.fixture(scope='module')
def nets(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('fid') / 'pt_inception-random.pth')
    save_fid_inception_state(path)
    return SPNFIDInception(path), pytorch_fid_inception(path)


def test_pool_features_equal_pytorch_fid_on_photos_of_several_sizes(nets):
    ours, ref = nets
    for img in photos():
        x = to_rgb01(img)
        with torch.no_grad():
            want = ref(x)[0].flatten(1)
        got = ours(x)
        assert got.shape == want.shape == (1, 2048), img.shape
        assert float(want.std()) > 1e-2  # features are not degenerate
        err = float((got - want).abs().max())
        assert err < 1e-5, (img.shape, err)


def _write_folder(folder, imgs):
    folder.mkdir()
    for i, img in enumerate(imgs):
        cv2.imwrite(str(folder / f'{i:03d}.png'), img[..., ::-1])
    return folder


def test_folder_fid_equals_pytorch_fid_frechet_distance(nets, tmp_path):
    """Two folders of real photos (mixed sizes): the project's folder FID
    equals pytorch-fid's ``calculate_frechet_distance`` on pytorch-fid's own
    activations of the same files.

    pytorch-fid's ``sqrtm`` of a 2048x2048 product takes ~27 s on one core,
    so its inputs are the activations expressed in an orthonormal basis of
    the span of all centred activations (an isometry of the data: means,
    covariances and hence the Fréchet distance are unchanged).
    """
    from pytorch_fid.fid_score import (calculate_frechet_distance,
                                       get_activations)
    ours, ref = nets
    ph = photos()
    flipped = [np.ascontiguousarray(p[:, ::-1]) for p in ph]
    d1 = _write_folder(tmp_path / 'a', ph[:4] + [ph[4][:100]])
    d2 = _write_folder(tmp_path / 'b', flipped[2:] + [ph[0][::2, ::2]])
    got = folder_fid(str(d1), str(d2), ours)

    acts = []
    for d in (d1, d2):
        files = sorted(str(p) for p in d.glob('*.png'))
        acts.append(
            get_activations(
                files,
                ref,
                batch_size=1,
                dims=2048,
                device='cpu',
                num_workers=0).astype(np.float64))
    centre = np.concatenate(acts).mean(0)
    _, s, vt = np.linalg.svd(
        np.concatenate(acts) - centre, full_matrices=False)
    basis = vt[s > s[0] * 1e-10]  # (r, 2048), r <= 9
    a1, a2 = [(a - centre) @ basis.T for a in acts]
    # the isometry keeps the simple terms (checked in 2048-d)
    assert np.isclose(((a1.mean(0) - a2.mean(0))**2).sum(),
                      ((acts[0].mean(0) - acts[1].mean(0))**2).sum())
    assert np.isclose(
        np.trace(np.cov(a1, rowvar=False)),
        np.trace(np.cov(acts[0], rowvar=False)))
    want = calculate_frechet_distance(
        a1.mean(0), np.cov(a1, rowvar=False), a2.mean(0),
        np.cov(a2, rowvar=False))
    assert want > 1
    assert got == pytest.approx(want, rel=1e-5)


def test_folder_errors_name_the_folder(tmp_path):
    from spn_mm.evaluation import list_images
    with pytest.raises(FileNotFoundError, match='folder: expected a dir'):
        list_images(str(tmp_path / 'missing'))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match='no image file'):
        list_images(str(tmp_path))
