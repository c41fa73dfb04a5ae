# Copyright (c) OpenMMLab. All rights reserved.
"""LPIPS built from local weights, and the in-hole diversity score."""
import itertools
import os.path as osp
from typing import Optional

import torch
import torch.nn as nn


def build_lpips(net: str = 'alex',
                backbone_path: Optional[str] = None,
                linear_path: Optional[str] = None,
                smoke: bool = False) -> nn.Module:
    """LPIPS v0.1 (``lpips`` package) with a spatial output and no download.

    Args:
        net (str): 'alex' (default) or 'vgg'.
        backbone_path (str, optional): torchvision ImageNet state dict of the
            backbone (``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth``).
            Required unless ``smoke``.
        linear_path (str, optional): LPIPS linear-layer weights; defaults to
            the file bundled with the ``lpips`` package.
        smoke (bool): Random backbone and linear layers (seeded) for tests;
            the numbers are meaningless.

    Returns:
        nn.Module: ``lpips.LPIPS`` in eval mode, ``spatial=True``.
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
            spatial=True,
            verbose=False)
    if not smoke:
        state = torch.load(backbone_path, map_location='cpu')
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


@torch.no_grad()
def lpips_hole_diversity(model: nn.Module, samples: torch.Tensor,
                         mask: torch.Tensor) -> float:
    """Mean pairwise LPIPS between K samples, averaged inside the hole.

    Args:
        model (nn.Module): A spatial LPIPS model (:func:`build_lpips`).
        samples (Tensor): (K, 3, H, W) RGB in [0, 1], K >= 2.
        mask (Tensor): (1, H, W) or (H, W), 1 = hole.

    Returns:
        float: Mean over the K(K-1)/2 pairs of the LPIPS map averaged over
        hole pixels (NaN when the mask is empty or K < 2).
    """
    k = samples.shape[0]
    mask = mask.reshape(1, 1, *samples.shape[-2:]).float()
    if k < 2 or mask.sum() == 0:
        return float('nan')
    pairs = list(itertools.combinations(range(k), 2))
    a = samples[[i for i, _ in pairs]].float()
    b = samples[[j for _, j in pairs]].float()
    dist = model(a, b, normalize=True)  # (P, 1, H, W)
    per_pair = (dist * mask).sum(dim=(1, 2, 3)) / mask.sum()
    return float(per_pair.mean())
