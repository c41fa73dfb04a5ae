"""Tiny SPN checkpoints and photos for the inference API / tool tests.

Checkpoints are made here from the tiny test configs (random weights), like
a training run would save them: ``{'state_dict': ..., 'meta': ...}`` with
generator and discriminator keys (the teacher is non-persistent).
"""
import os.path as osp
from typing import Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from skimage import data

from spn_mm.registry import MODELS

TESTS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO_ROOT = osp.dirname(TESTS_DIR)
TINY_DET = osp.join(TESTS_DIR, 'configs', 'spn_tiny_det.py')
TINY_PROB = osp.join(TESTS_DIR, 'configs', 'spn_tiny_prob.py')
TINY = {'det': TINY_DET, 'prob': TINY_PROB}


def build_training_model(config: str, seed: int = 0) -> torch.nn.Module:
    """The full (training) model of a config, random weights."""
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(Config.fromfile(config).model)


def make_tiny_checkpoint(path: str,
                         variant: str = 'det',
                         seed: int = 0) -> str:
    """Save a tiny random SPN checkpoint (as a training run would)."""
    model = build_training_model(TINY[variant], seed)
    torch.save({
        'state_dict': model.state_dict(),
        'meta': {
            'seed': seed
        }
    }, path)
    return path


def photo(height: int = 333,
          width: int = 517,
          name: str = 'coffee') -> np.ndarray:
    """A scikit-image photo cropped to (height, width), uint8 RGB."""
    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.shape[0] < height or img.shape[1] < width:
        reps = (-(-height // img.shape[0]), -(-width // img.shape[1]), 1)
        img = np.tile(img, reps)
    return np.ascontiguousarray(img[:height, :width, :3])


def rect_mask(
    height: int,
    width: int,
    box: Tuple[float, float, float, float] = (0.3, 0.6, 0.4, 0.7)
) -> np.ndarray:
    """uint8 mask, 255 = hole, in the relative box (y0, y1, x0, x1)."""
    mask = np.zeros((height, width), np.uint8)
    y0, y1, x0, x1 = box
    mask[int(y0 * height):int(y1 * height),
         int(x0 * width):int(x1 * width)] = 255
    return mask
