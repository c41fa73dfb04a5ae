from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   non_finite_terms)
from .prior_loss_schedule_hook import PriorLossScheduleHook
from .save_metrics_hook import SaveMetricsHook, to_builtin
from .schedule_info_hook import OFFICIAL_GLOBAL_BATCH, SPNScheduleInfoHook

__all__ = [
    'NonFiniteLossError', 'NonFiniteLossHook', 'non_finite_terms',
    'PriorLossScheduleHook', 'SPNScheduleInfoHook', 'OFFICIAL_GLOBAL_BATCH',
    'SaveMetricsHook', 'to_builtin'
]
