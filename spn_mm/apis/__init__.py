"""Inference APIs: :class:`SPNInpainter` and its building blocks."""
from .hd_strategy import HD_STRATEGIES, HDPlan, required_multiple
from .image_io import (HOLE_CONVENTIONS, SPNMaskWarning, binarize_mask,
                       dilate_mask, load_mask, read_image, write_image)
from .inpainter import PRECISIONS, SPNInpainter
from .model_loader import (build_inference_model, init_spn_model,
                           load_inference_checkpoint)

__all__ = [
    'SPNInpainter', 'PRECISIONS', 'init_spn_model', 'build_inference_model',
    'load_inference_checkpoint', 'HDPlan', 'HD_STRATEGIES',
    'required_multiple', 'HOLE_CONVENTIONS', 'SPNMaskWarning', 'binarize_mask',
    'dilate_mask', 'load_mask', 'read_image', 'write_image'
]
