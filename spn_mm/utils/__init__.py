from .collect_env import collect_env
from .patches import apply_patches

__all__ = ['collect_env', 'apply_patches']
