from .masks import (SPNIrregularMask, SPNLoadMaskFromSet, SPNLoadPairedMask,
                    SPNRandomIrregularMask, generate_irregular_mask)
from .teacher_view import SPNTeacherView

__all__ = [
    'SPNIrregularMask', 'SPNRandomIrregularMask', 'SPNLoadMaskFromSet',
    'SPNLoadPairedMask', 'SPNTeacherView', 'generate_irregular_mask'
]
