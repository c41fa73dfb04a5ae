"""Inference APIs: :class:`SPNInpainter` and its building blocks."""
from .hd_strategy import (HD_STRATEGIES, HDPlan, minimum_side,
                          required_multiple)
from .image_io import (HOLE_CONVENTIONS, SPNFormatWarning, SPNMaskWarning,
                       binarize_mask, dilate_mask, load_mask, match_source,
                       read_image, write_image)
from .inpainter import PRECISIONS, SPNInpainter
from .model_loader import (CheckpointError, ConfigError,
                           build_inference_model, init_spn_model,
                           load_inference_checkpoint, read_checkpoint,
                           split_generator_state, check_generator_state)

__all__ = [
    'SPNInpainter', 'PRECISIONS', 'init_spn_model', 'build_inference_model',
    'load_inference_checkpoint', 'HDPlan', 'HD_STRATEGIES',
    'required_multiple', 'minimum_side', 'HOLE_CONVENTIONS',
    'SPNMaskWarning', 'binarize_mask', 'dilate_mask', 'load_mask',
    'read_image', 'write_image', 'SPNFormatWarning', 'match_source', 'CheckpointError', 'ConfigError',
    'read_checkpoint', 'split_generator_state', 'check_generator_state'
]
