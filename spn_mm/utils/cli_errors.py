"""How the tools report user errors: one line, exit status 1.

A user error (a missing file, a bad dataset entry, a damaged checkpoint, a
wrong option value) prints ``error: <one line>`` and exits with status 1;
``--debug`` re-raises it with the traceback. Any other exception is a bug
and keeps its traceback.
"""
from typing import Tuple, Type


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line.

    An exception re-raised from a DataLoader worker carries the worker's
    traceback in its message; its last line (the original error) is kept.

    Args:
        err (BaseException): The error.

    Returns:
        str: One line (the type name when the message is empty).
    """
    text = str(err).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and 'Traceback' in text:
        last = lines[-1]
        head, sep, tail = last.partition(': ')
        return tail if sep and head.endswith(('Error', 'Exception')) \
            else last
    return ' '.join(lines) or type(err).__name__


def user_errors() -> Tuple[Type[BaseException], ...]:
    """The exception types the training/testing tools treat as user
    errors."""
    from spn_mm.apis.model_loader import CheckpointError, ConfigError
    from spn_mm.datasets import DataFileError, DatasetCheckError
    from spn_mm.utils.weights_io import WeightsFileError
    return (DatasetCheckError, DataFileError, CheckpointError, ConfigError,
            WeightsFileError,
            FileNotFoundError, NotADirectoryError, IsADirectoryError,
            PermissionError)
