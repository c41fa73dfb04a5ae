from .file_errors import DataFileError, NamedFileErrorsMixin
from .manifest_utils import (build_manifest, load_manifest, manifest_hash,
                             pair_indices, verify_manifest, write_manifest)
from .mask_utils import mask_image_to_holes, read_mask, resize_mask
from .seeded_sampling import (SampleKey, SeededDefaultSampler,
                              SeededInfiniteSampler, SPNImageDataset,
                              seeded_global_rngs)
from .preflight import (PREFLIGHT_ENTRIES, DatasetCheckError,
                        preflight_dataloader, preflight_dataset,
                        preflight_work_dir)
from .spn_manifest_dataset import SPNManifestDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SPNManifestDataset', 'SPNImageDataset', 'SampleKey',
    'SeededInfiniteSampler', 'SeededDefaultSampler', 'seeded_global_rngs',
    'build_manifest', 'load_manifest', 'manifest_hash', 'pair_indices',
    'verify_manifest', 'write_manifest', 'mask_image_to_holes', 'read_mask',
    'resize_mask', 'DataFileError', 'NamedFileErrorsMixin',
    'DatasetCheckError', 'PREFLIGHT_ENTRIES', 'preflight_dataloader',
    'preflight_dataset', 'preflight_work_dir'
]
