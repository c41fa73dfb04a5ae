"""Model analysis: parameters, FLOPs and latency (paper Table 6)."""
from .complexity import complexity_report, count_flops

__all__ = ['complexity_report', 'count_flops']
