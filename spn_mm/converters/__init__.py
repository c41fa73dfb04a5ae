"""Checkpoint converters: released weights -> spn_mm's module names.

* :mod:`.official_spn`: the authors' SPN checkpoints -> :class:`SPNGenerator`
  (``tools/model_converters/spn_official_to_mmagic.py``);
* :mod:`.asl_tresnet`: ASL's TResNet teacher -> timm's TResNet
  (the teachers' ``checkpoint_key_map='asl_tresnet'``).
"""
from .asl_tresnet import convert_asl_tresnet
from .official_spn import (convert_official_checkpoint,
                           convert_official_state_dict, detect_variant,
                           official_generator_cfg, official_key_map)

__all__ = [
    'convert_asl_tresnet', 'convert_official_checkpoint',
    'convert_official_state_dict', 'detect_variant', 'official_generator_cfg',
    'official_key_map'
]
