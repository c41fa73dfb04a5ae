# Copyright (c) OpenMMLab. All rights reserved.
from .masks import (SPNIrregularMask, SPNLoadMaskFromSet, SPNLoadPairedMask,
                    SPNRandomIrregularMask, generate_irregular_mask)

__all__ = [
    'SPNIrregularMask', 'SPNRandomIrregularMask', 'SPNLoadMaskFromSet',
    'SPNLoadPairedMask', 'generate_irregular_mask'
]
