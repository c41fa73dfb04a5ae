"""How the tools report user errors: one line, exit status 1.

A user error (a missing file, a bad dataset entry, a damaged checkpoint, a
wrong option value) prints ``error: <one line>`` and exits with status 1;
``--debug`` re-raises it with the traceback. Any other exception is a bug
and keeps its traceback.
"""
import contextlib
import sys
from typing import (Any, Callable, Iterator, List, Optional, Sequence, Tuple,
                    Type)


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


class ConfigKeyError(ValueError, KeyError):
    """A config names something that does not exist (a module path, a
    registry entry); a ``KeyError`` too, printed without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


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


def exit_on_user_error(run: Callable[[Any], Any], args: Any) -> Any:
    """``run(args)`` for ``tools/train.py`` / ``tools/test.py``: a user error
    (:func:`user_errors`) exits with ``error: <one line>`` (status 1), or
    re-raises when ``args.debug`` is set.

    Returns:
        Whatever ``run`` returns.
    """
    try:
        return run(args)
    except user_errors() as err:
        if getattr(args, 'debug', False):
            raise
        raise SystemExit(f'error: {one_line(err)}')


@contextlib.contextmanager
def config_errors(config: str) -> Iterator[None]:
    """Treat a value/type/key error raised inside the block -- building a
    model, a runner or a dataset from ``config`` (a head width that does not
    match the teacher, an unknown registry ``type``, a wrong argument) -- as
    a user error: it is re-raised as ``ConfigError`` naming the config
    file, which the tools print in one line. Errors that are already user
    errors pass unchanged.

    Args:
        config (str): The config file, for the message.
    """
    try:
        yield
    except user_errors():
        raise
    except (ValueError, TypeError, KeyError) as err:
        from spn_mm.apis.model_loader import ConfigError
        raise ConfigError(f'config {config!r}: {one_line(err)}') from err


def tool_user_errors() -> Tuple[Type[BaseException], ...]:
    """:func:`user_errors` plus the value/type/OS errors the API raises on
    bad inputs (images, masks, options): what every tool reports in one
    line."""
    return user_errors() + (ValueError, TypeError, OSError)


def run_cli(main: Callable[[List[str]], Optional[int]],
            argv: Optional[Sequence[str]] = None) -> int:
    """Run a tool's ``main(argv)`` with the one-line error rule.

    ``--debug`` anywhere in ``argv`` is removed and makes user errors raise
    with their traceback. Otherwise a user error (:func:`tool_user_errors`)
    prints ``error: <one line>`` to stderr and gives exit status 1. Other
    exceptions (bugs) and argparse's own exits pass through.

    Args:
        main (callable): The tool's ``main``, taking the argument list.
        argv (Sequence[str], optional): Arguments; default ``sys.argv[1:]``.

    Returns:
        int: The exit status (``main``'s, 0 for None, 1 on a user error).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in args
    args = [a for a in args if a != '--debug']
    try:
        return int(main(args) or 0)
    except tool_user_errors() as err:
        if debug:
            raise
        print(f'error: {one_line(err)}', file=sys.stderr)
        return 1
