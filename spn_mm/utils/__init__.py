from .cli_errors import one_line, run_cli, tool_user_errors, user_errors
from .collect_env import collect_env

__all__ = [
    'collect_env', 'one_line', 'run_cli', 'tool_user_errors', 'user_errors'
]
