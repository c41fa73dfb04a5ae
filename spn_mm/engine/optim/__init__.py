from .autocast_optim_wrapper import SPNAutocastOptimWrapper, amp_optim_cfg

__all__ = ['SPNAutocastOptimWrapper', 'amp_optim_cfg']
