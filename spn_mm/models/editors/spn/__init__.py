from .prior_distillation import PriorDistillation
from .prior_learner import SemanticPriorLearner
from .spade_generator import SPADEGenerator
from .spn_blocks import (SPNRegionNorm, SPNResBlock, SPNResidualDenseBlock,
                         SPNShortcutResBlock, SPNSPADE, SPNSPADEResBlock,
                         SPNSPADEShortcutResBlock)
from .input_convention import learner_view, to_official
from .spn_generator import SPNFeatures, SPNGenerator
from .spn_inpaintor import SPNInpaintor
from .variational_prior import VariationalPrior

__all__ = [
    'SPNRegionNorm', 'SPNSPADE', 'SPNSPADEResBlock',
    'SPNSPADEShortcutResBlock', 'SPNResBlock', 'SPNShortcutResBlock',
    'SPNResidualDenseBlock', 'SemanticPriorLearner', 'VariationalPrior',
    'SPADEGenerator', 'SPNGenerator', 'SPNFeatures', 'to_official',
    'learner_view', 'SPNInpaintor', 'PriorDistillation'
]
