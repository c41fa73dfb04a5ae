"""LPIPS built from local weights, and the diversity scores of K samples.

:func:`build_lpips` is ``lpips.LPIPS`` (v0.1) itself with the torchvision
backbone loaded from a local file, so with the same weights its values equal
``lpips.LPIPS(net='alex')``'s (checked in
``tests/test_evaluation/test_lpips_reference_parity.py``).
"""
import itertools
import os.path as osp
from typing import List, Optional, Tuple

import torch
import torch.nn as nn

from spn_mm.utils.weights_io import check_finite, load_weights_file


def build_lpips(net: str = 'alex',
                backbone_path: Optional[str] = None,
                linear_path: Optional[str] = None,
                smoke: bool = False,
                spatial: bool = False) -> nn.Module:
    """LPIPS v0.1 (``lpips`` package) without any download.

    Args:
        net (str): 'alex' (default) or 'vgg'.
        backbone_path (str, optional): torchvision ImageNet state dict of the
            backbone (``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth``).
            Required unless ``smoke``.
        linear_path (str, optional): LPIPS linear-layer weights; defaults to
            the file bundled with the ``lpips`` package.
        smoke (bool): Random backbone and linear layers (seeded) for tests;
            the numbers are meaningless.
        spatial (bool): False (default): one value per pair, the standard
            LPIPS (``lpips.LPIPS``'s default). True: a per-pixel map at the
            input size (for :func:`lpips_hole_diversity`).

    Returns:
        nn.Module: ``lpips.LPIPS`` in eval mode, frozen.
    """
    import warnings

    import lpips
    if net not in ('alex', 'vgg'):
        raise ValueError(f"lpips_cfg.net: expected 'alex' or 'vgg', got "
                         f'{net!r}')
    if not smoke:
        if backbone_path is None:
            raise ValueError(
                'lpips_cfg.backbone_path: LPIPS needs the local torchvision '
                f'{net} ImageNet weights (e.g. alexnet-owt-7be5be79.pth); '
                'set lpips_cfg=dict(backbone_path=...) or lpips_cfg=None '
                '(dict(smoke=True) only for tests)')
        if not osp.isfile(backbone_path):
            raise FileNotFoundError(
                'lpips_cfg.backbone_path: backbone weights not found at '
                f'{backbone_path!r} (no download is attempted)')
        if linear_path is not None and not osp.isfile(linear_path):
            raise FileNotFoundError('lpips_cfg.linear_path: LPIPS linear '
                                    f'weights not found at {linear_path!r}')
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.manual_seed(0)
        model = lpips.LPIPS(
            pretrained=not smoke,
            net=net,
            pnet_rand=True,  # never let torchvision download the backbone
            model_path=linear_path,
            spatial=bool(spatial),
            verbose=False)
    if not smoke:
        state = load_weights_file(backbone_path, 'lpips_cfg.backbone_path')
        if isinstance(state, dict):
            check_finite(state, f'lpips_cfg.backbone_path {backbone_path!r}')
        feats = {
            k[len('features.'):]: v
            for k, v in state.items() if k.startswith('features.')
        }
        if not feats:
            raise RuntimeError(
                f'lpips_cfg.backbone_path: {backbone_path!r} has no '
                "'features.*' keys (expected a torchvision state dict)")
        n_loaded = 0
        for slice_ in model.net.children():
            for name, layer in slice_.named_children():
                sub = {
                    k[len(name) + 1:]: v
                    for k, v in feats.items() if k.split('.')[0] == name
                }
                if sub:
                    layer.load_state_dict(sub)
                    n_loaded += len(sub)
        if n_loaded == 0:
            raise RuntimeError('lpips_cfg.backbone_path: no backbone layer '
                               f'matched the keys of {backbone_path!r}')
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _pairs(k: int) -> Tuple[List[int], List[int]]:
    pairs = list(itertools.combinations(range(k), 2))
    return [i for i, _ in pairs], [j for _, j in pairs]


@torch.no_grad()
def lpips_pairwise_diversity(model: nn.Module, samples: torch.Tensor) -> float:
    """Mean standard LPIPS over the K(K-1)/2 pairs of K whole images.

    Args:
        model (nn.Module): A non-spatial LPIPS model (:func:`build_lpips`
            with ``spatial=False``).
        samples (Tensor): (K, 3, H, W) RGB in [0, 1].

    Returns:
        float: The mean pairwise distance (NaN when K < 2).
    """
    if getattr(model, 'spatial', False):
        raise ValueError('lpips_pairwise_diversity: expected a non-spatial '
                         'LPIPS model (build_lpips(spatial=False))')
    k = samples.shape[0]
    if k < 2:
        return float('nan')
    ia, ib = _pairs(k)
    dist = model(samples[ia].float(), samples[ib].float(), normalize=True)
    return float(dist.flatten().double().mean())


@torch.no_grad()
def lpips_hole_diversity(model: nn.Module, samples: torch.Tensor,
                         mask: torch.Tensor) -> float:
    """Mean pairwise LPIPS between K samples, averaged inside the hole.

    Args:
        model (nn.Module): A spatial LPIPS model (:func:`build_lpips` with
            ``spatial=True``).
        samples (Tensor): (K, 3, H, W) RGB in [0, 1], K >= 2.
        mask (Tensor): (1, H, W) or (H, W), 1 = hole.

    Returns:
        float: Mean over the K(K-1)/2 pairs of the LPIPS map averaged over
        hole pixels (NaN when the mask is empty or K < 2).
    """
    if not getattr(model, 'spatial', True):
        raise ValueError('lpips_hole_diversity: expected a spatial LPIPS '
                         'model (build_lpips(spatial=True))')
    k = samples.shape[0]
    mask = mask.reshape(1, 1, *samples.shape[-2:]).float()
    if k < 2 or mask.sum() == 0:
        return float('nan')
    ia, ib = _pairs(k)
    dist = model(
        samples[ia].float(), samples[ib].float(),
        normalize=True)  # (P, 1, H, W)
    per_pair = (dist * mask).sum(dim=(1, 2, 3)) / mask.sum()
    return float(per_pair.mean())
