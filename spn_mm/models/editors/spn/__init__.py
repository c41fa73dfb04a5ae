# Copyright (c) OpenMMLab. All rights reserved.
from .official_converter import (convert_official_checkpoint,
                                 convert_official_state_dict,
                                 official_generator_cfg)
from .prior_learner import SemanticPriorLearner
from .spade_generator import SPADEGenerator
from .spn_blocks import (SPNRegionNorm, SPNResBlock, SPNResidualDenseBlock,
                         SPNShortcutResBlock, SPNSPADE, SPNSPADEResBlock,
                         SPNSPADEShortcutResBlock)
from .spn_generator import SPNGenerator
from .spn_inpaintor import SPNInpaintor
from .variational_prior import VariationalPrior

__all__ = [
    'SPNRegionNorm', 'SPNSPADE', 'SPNSPADEResBlock',
    'SPNSPADEShortcutResBlock', 'SPNResBlock', 'SPNShortcutResBlock',
    'SPNResidualDenseBlock', 'SemanticPriorLearner', 'VariationalPrior',
    'SPADEGenerator', 'SPNGenerator', 'SPNInpaintor', 'official_generator_cfg',
    'convert_official_state_dict', 'convert_official_checkpoint'
]
