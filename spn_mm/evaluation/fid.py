"""FID pieces: an Inception-V3 pool3 extractor with local weights and the
Fréchet distance with a small-sample path.

The network is mmagic's FID-Inception (``fid_inception_v3``: torchvision's
Inception-V3 patched to the TF-FID graph, the model of pytorch-fid) built
**without** its URL download; the weights come from a local
``pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid's release file).
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from spn_mm.datasets.mask_utils import sha1_file
from spn_mm.utils.weights_io import check_finite, load_weights_file

FID_WEIGHTS_NAME = 'pt_inception-2015-12-05-6726825d.pth'
FID_DIM = 2048


class SPNFIDInception(nn.Module):
    """Inception-V3 pool3 (2048-d) features for FID.

    Input: RGB in [0, 1], any size; it is resized to 299x299 (bilinear,
    ``align_corners=False``) and scaled to [-1, 1], as pytorch-fid does.

    Args:
        weights_path (str, optional): Local pytorch-fid state dict
            (``pt_inception-2015-12-05-6726825d.pth``). Required unless
            ``smoke``.
        smoke (bool): Random weights (seeded, deterministic, BN statistics
            calibrated on one random batch) for plumbing tests; inputs are
            resized to 75x75 (Inception's minimum) instead of 299 to keep
            tests fast. The features -- and any FID computed from them --
            are meaningless.
    """

    def __init__(self,
                 weights_path: Optional[str] = None,
                 smoke: bool = False) -> None:
        super().__init__()
        from mmagic.evaluation.functional.fid_inception import \
            fid_inception_v3
        self.smoke = bool(smoke)
        if weights_path is None and not smoke:
            raise ValueError(
                'fid_cfg.inception_path: FID needs local Inception weights '
                f'(pytorch-fid\'s {FID_WEIGHTS_NAME}); set '
                'fid_cfg=dict(inception_path=...) or disable FID with '
                'fid_cfg=None (fid_cfg=dict(smoke=True) only for tests: '
                'random weights, meaningless numbers)')
        if weights_path is not None and not osp.isfile(weights_path):
            raise FileNotFoundError(
                f'fid_cfg.inception_path: Inception weights not found at '
                f'{weights_path!r} (expected pytorch-fid\'s '
                f'{FID_WEIGHTS_NAME}; no download is attempted)')
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                net = fid_inception_v3(load_ckpt=False)
        if weights_path is not None:
            state = load_weights_file(weights_path,
                                      'fid_cfg.inception_path')
            if isinstance(state, dict) and 'state_dict' in state:
                state = state['state_dict']
            if isinstance(state, dict):
                check_finite(state,
                             f'fid_cfg.inception_path {weights_path!r}')
            missing, unexpected = net.load_state_dict(state, strict=False)
            missing = [
                k for k in missing if not k.endswith('num_batches_tracked')
                and not k.startswith('fc.')
            ]
            if missing or unexpected:
                raise RuntimeError(
                    f'fid_cfg.inception_path: {weights_path!r} is not a '
                    f'pytorch-fid FID-Inception state dict (missing keys '
                    f'{missing[:5]}..., unexpected keys {unexpected[:5]}...)')
            self.weights_sha1 = sha1_file(weights_path)
        else:
            self.weights_sha1 = 'random-smoke'
        self.features = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3,
                         stride=2), net.Conv2d_3b_1x1, net.Conv2d_4a_3x3,
            nn.MaxPool2d(kernel_size=3,
                         stride=2), net.Mixed_5b, net.Mixed_5c, net.Mixed_5d,
            net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d,
            net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
            nn.AdaptiveAvgPool2d(output_size=(1, 1)))
        for p in self.parameters():
            p.requires_grad_(False)
        if self.smoke:
            self._calibrate_smoke()
        self.eval()

    @torch.no_grad()
    def _calibrate_smoke(self) -> None:
        """Set BN statistics from one seeded random batch so random-weight
        features keep an input-dependent, non-vanishing scale."""
        bns = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average: one pass = batch stats
        gen = torch.Generator().manual_seed(0)
        self.train()
        self.features(torch.rand(8, 3, 75, 75, generator=gen) * 2 - 1)
        for m in bns:
            m.momentum = 0.1

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool features.

        Args:
            x (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Tensor: (N, 2048) float32.
        """
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f'expected (N,3,H,W) RGB, got {tuple(x.shape)}')
        size = 75 if self.smoke else 299
        x = F.interpolate(
            x.float(), size=(size, size), mode='bilinear', align_corners=False)
        x = 2 * x - 1
        return self.features(x).flatten(1)


def feature_stats(feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance of (N, D) features (N >= 2)."""
    feats = np.asarray(feats, dtype=np.float64)
    return feats.mean(0), np.cov(feats, rowvar=False)


def frechet_distance(mu1: np.ndarray,
                     sigma1: np.ndarray,
                     mu2: np.ndarray,
                     sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians (covariance form).

    ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` with
    ``scipy.linalg.sqrtm``; when the product is singular (non-finite root)
    ``eps`` is added to both diagonals, and a small imaginary part from
    numerical error is dropped.

    Args:
        mu1, mu2 (np.ndarray): (D,) means.
        sigma1, sigma2 (np.ndarray): (D, D) covariances.
        eps (float): Diagonal offset for singular products.

    Returns:
        float: The distance.
    """
    from scipy import linalg
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError('frechet_distance: mean/covariance shapes differ: '
                         f'{mu1.shape} vs {mu2.shape}, {sigma1.shape} vs '
                         f'{sigma2.shape}')
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        imag = np.max(np.abs(np.diagonal(covmean).imag))
        if imag > 1e-3:
            print_log(
                f'frechet_distance: sqrtm has an imaginary component '
                f'{imag:.3g}; the real part is used', 'current', 30)
        covmean = covmean.real
    return float(
        diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) -
        2 * np.trace(covmean))


def frechet_distance_from_features(feats1: np.ndarray,
                                   feats2: np.ndarray,
                                   eps: float = 1e-6) -> float:
    """Fréchet distance between two feature sets (N1, D) and (N2, D).

    With ``min(N1, N2) <= D`` the unbiased covariances are rank-deficient;
    the trace of the matrix root is then computed exactly and fast from the
    singular values of the centred cross-Gram matrix,
    ``Tr((S1 S2)^(1/2)) = ||X1 X2^T||_* / sqrt((N1-1)(N2-1))`` (X centred),
    which avoids a DxD ``sqrtm`` of a singular product. Otherwise
    :func:`frechet_distance` is used.

    Args:
        feats1, feats2 (np.ndarray): Feature sets, N >= 2 each.
        eps (float): See :func:`frechet_distance`.

    Returns:
        float: The distance (NaN when a set has fewer than 2 samples).
    """
    f1 = np.asarray(feats1, dtype=np.float64)
    f2 = np.asarray(feats2, dtype=np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError('frechet_distance_from_features: expected (N1,D) '
                         f'and (N2,D), got {f1.shape} and {f2.shape}')
    n1, n2, d = f1.shape[0], f2.shape[0], f1.shape[1]
    if n1 < 2 or n2 < 2:
        return float('nan')
    if min(n1, n2) > d:
        mu1, s1 = feature_stats(f1)
        mu2, s2 = feature_stats(f2)
        return frechet_distance(mu1, s1, mu2, s2, eps)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    x1, x2 = f1 - mu1, f2 - mu2
    c1, c2 = n1 - 1., n2 - 1.
    tr1 = float((x1 * x1).sum() / c1)
    tr2 = float((x2 * x2).sum() / c2)
    sv = np.linalg.svd(x1 @ x2.T, compute_uv=False)
    tr_covmean = float(sv.sum() / np.sqrt(c1 * c2))
    diff = mu1 - mu2
    return float(diff.dot(diff) + tr1 + tr2 - 2 * tr_covmean)


def fid_from_feature_lists(real: Sequence[Optional[np.ndarray]],
                           fake: Sequence[Optional[np.ndarray]],
                           eps: float = 1e-6) -> float:
    """FID of per-image feature vectors (``None`` entries are skipped).

    Args:
        real, fake (Sequence[np.ndarray | None]): (D,) features per image.
        eps (float): See :func:`frechet_distance`.

    Returns:
        float: The distance; NaN with fewer than 2 vectors on a side; a
        round-off negative (> -1e-6, identical sets) is returned as 0.
    """
    real = [f for f in real if f is not None]
    fake = [f for f in fake if f is not None]
    if len(real) < 2 or len(fake) < 2:
        return float('nan')
    fid = frechet_distance_from_features(np.stack(real), np.stack(fake), eps)
    return 0.0 if -1e-6 < fid < 0 else fid
