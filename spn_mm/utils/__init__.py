from .cli_errors import (ConfigKeyError, config_errors, exit_on_user_error,
                         one_line, run_cli, tool_user_errors, user_errors)
from .collect_env import collect_env

__all__ = [
    'ConfigKeyError', 'collect_env', 'config_errors', 'exit_on_user_error',
    'one_line', 'run_cli', 'tool_user_errors', 'user_errors'
]
