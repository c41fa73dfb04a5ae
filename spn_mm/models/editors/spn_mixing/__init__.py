"""Mixing SPN parts with other mmagic models (``configs/mixing/``)."""
from .prior_guided_aot_inpaintor import PriorGuidedAOTInpaintor
from .prior_guided_encdec import PriorGuidedEncDec

__all__ = ['PriorGuidedEncDec', 'PriorGuidedAOTInpaintor']
