"""Test helpers: real photos, shared random weights, and the reference
implementations (pytorch-fid, lpips) built from those weights offline.

The reference networks are built by the packages' own constructors; only
their downloads are replaced (pytorch-fid's ``load_state_dict_from_url`` and
torchvision's ``alexnet`` as lpips calls it) so they load the same local
state dict the project loads.
"""
from typing import List
from unittest import mock

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def photos() -> List[np.ndarray]:
    """Six uint8 RGB photos from ``skimage.data`` in six sizes (square and
    not, larger and smaller than Inception's 299)."""
    from skimage import data
    astro, cat, coffee = data.astronaut(), data.chelsea(), data.coffee()
    return [
        astro,  # 512x512
        cat,  # 300x451
        coffee,  # 400x600
        np.ascontiguousarray(astro[40:240, 100:450]),  # 200x350 crop
        cv2.resize(cat[:, 75:375], (128, 128), interpolation=cv2.INTER_AREA),
        cv2.resize(coffee, (96, 64), interpolation=cv2.INTER_AREA),  # 64x96
    ]


def to_rgb01(img: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.


def save_fid_inception_state(path: str) -> dict:
    """Seeded random FID-Inception weights with BN statistics set from real
    photos (so features are O(1), as with trained weights); saved to
    ``path`` in pytorch-fid's state-dict layout.

    Returns:
        dict: The state dict.
    """
    from mmagic.evaluation.functional.fid_inception import fid_inception_v3
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        net = fid_inception_v3(load_ckpt=False)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    x = torch.cat([
        F.interpolate(
            to_rgb01(p), size=(299, 299), mode='bilinear', align_corners=False)
        for p in photos()[:4]
    ]) * 2 - 1
    net.train()
    with torch.no_grad():
        net(x)
    state = net.state_dict()
    torch.save(state, path)
    return state


def pytorch_fid_inception(path: str) -> nn.Module:
    """``pytorch_fid.inception.InceptionV3([3])`` (pool3, resize to 299,
    normalise to [-1, 1], FID Inception) whose weights come from ``path``
    instead of pytorch-fid's URL."""
    import pytorch_fid.inception as pfi

    def local(*args, **kwargs):
        return torch.load(path, map_location='cpu')

    with mock.patch.object(pfi, 'load_state_dict_from_url', local):
        model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]],
                                resize_input=True,
                                normalize_input=True,
                                use_fid_inception=True)
    return model.eval()


def save_alexnet_state(path: str) -> dict:
    """Seeded random torchvision AlexNet state dict saved to ``path``."""
    import torchvision
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        alex = torchvision.models.alexnet(weights=None)
    state = alex.state_dict()
    torch.save(state, path)
    return state


def lpips_reference(alexnet_path: str) -> nn.Module:
    """``lpips.LPIPS(net='alex')`` (v0.1, its bundled linear weights) whose
    "pretrained" AlexNet trunk is torchvision's AlexNet loaded from
    ``alexnet_path`` instead of the torchvision download."""
    import lpips
    import lpips.pretrained_networks as lpn
    import torchvision
    real_alexnet = torchvision.models.alexnet

    def local_alexnet(*args, **kwargs):
        net = real_alexnet(weights=None)
        net.load_state_dict(torch.load(alexnet_path, map_location='cpu'))
        return net

    with mock.patch.object(lpn.tv, 'alexnet', local_alexnet):
        model = lpips.LPIPS(net='alex', verbose=False)
    return model.eval()
