"""Deployment helpers (ONNX export of the SPN inference generator)."""
from .onnx_export import (SPNOnnxWrapper, check_onnx_parity, example_inputs,
                          export_onnx, latent_shape, seeded_noise)

__all__ = [
    'SPNOnnxWrapper', 'export_onnx', 'check_onnx_parity', 'example_inputs',
    'latent_shape', 'seeded_noise'
]
