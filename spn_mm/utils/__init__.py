from .cli_errors import (exit_on_user_error, one_line, run_cli,
                         tool_user_errors, user_errors)
from .collect_env import collect_env

__all__ = [
    'collect_env', 'exit_on_user_error', 'one_line', 'run_cli',
    'tool_user_errors', 'user_errors'
]
