from .aggregate import bucket_summary
from .buckets import (ALL_BUCKET, DEFAULT_BUCKET_EDGES, assign_bucket,
                      bucket_names, hole_ratio)
from .fid import (SPNFIDInception, frechet_distance,
                  frechet_distance_from_features)
from .fid_folders import folder_features, folder_fid, list_images
from .inpainting_scores import MMagicScorer, composite, quantize, spn_scores
from .lpips_diversity import build_lpips, lpips_hole_diversity
from .metrics import *  # noqa: F401,F403
from .report import format_table, metric_rows, write_summary

__all__ = [
    'ALL_BUCKET', 'DEFAULT_BUCKET_EDGES', 'assign_bucket', 'bucket_names',
    'hole_ratio',
    'SPNFIDInception', 'frechet_distance', 'frechet_distance_from_features',
    'folder_features', 'folder_fid', 'list_images',
    'MMagicScorer', 'composite', 'quantize', 'spn_scores', 'build_lpips',
    'lpips_hole_diversity', 'SPNInpaintingMetric', 'bucket_summary',
    'format_table', 'metric_rows', 'write_summary'
]
