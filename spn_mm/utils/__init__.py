from .cli_errors import one_line, user_errors
from .collect_env import collect_env

__all__ = ['collect_env', 'one_line', 'user_errors']
