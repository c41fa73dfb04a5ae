from .spn_inpainting_metric import SPNInpaintingMetric

__all__ = ['SPNInpaintingMetric']
