"""spn_mm registers everything into mmagic's registries (scope ``mmagic``).

Configs use ``default_scope='mmagic'`` with
``custom_imports=dict(imports=['spn_mm'], allow_failed_imports=False)``, so SPN
modules and every mmagic module resolve without a prefix, and any mmagic config
can use SPN parts by adding the same ``custom_imports`` line.
"""
from mmagic.registry import (DATA_SAMPLERS, DATASETS, EVALUATORS, HOOKS, LOOPS,
                             METRICS, MODEL_WRAPPERS, MODELS,
                             OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                             TRANSFORMS, VISBACKENDS, VISUALIZERS)

__all__ = [
    'MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'EVALUATORS', 'HOOKS',
    'LOOPS', 'VISUALIZERS', 'VISBACKENDS', 'MODEL_WRAPPERS', 'DATA_SAMPLERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS'
]
