# Copyright (c) OpenMMLab. All rights reserved.
from .fid import (SPNFIDInception, frechet_distance,
                  frechet_distance_from_features)
from .inpainting_scores import MMagicScorer, composite, quantize, spn_scores
from .lpips_diversity import build_lpips, lpips_hole_diversity
from .metrics import *  # noqa: F401,F403

__all__ = [
    'SPNFIDInception', 'frechet_distance', 'frechet_distance_from_features',
    'MMagicScorer', 'composite', 'quantize', 'spn_scores', 'build_lpips',
    'lpips_hole_diversity', 'SPNInpaintingMetric'
]
