"""Reading weight files (checkpoints, teacher/VGG/Inception/LPIPS weights)
with one-line errors.

:func:`load_weights_file` turns a truncated or foreign file into a
:class:`WeightsFileError` naming the config field and the file;
:func:`check_finite` refuses NaN/inf tensors. The tools print both as one
``error:`` line (:mod:`spn_mm.utils.cli_errors`).
"""
from typing import Any, Callable, Dict, Optional

import torch


class WeightsFileError(ValueError):
    """A weight file that is truncated, foreign or holds NaN/inf values."""


class WeightsKeyError(WeightsFileError, KeyError):
    """A weight file whose keys are not the expected model's (a foreign or
    wrong-variant file). Also a ``KeyError``, for callers that catch that;
    its message prints without ``KeyError``'s quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def load_weights_file(path: str,
                      field: str,
                      loader: Optional[Callable[[str], Any]] = None) -> Any:
    """Load a weight file, naming ``field`` and ``path`` when it fails.

    Args:
        path (str): An existing local file.
        field (str): The config field it comes from, for the message.
        loader (callable, optional): ``loader(path)``; default
            ``torch.load(path, map_location='cpu', weights_only=True)``.

    Returns:
        Any: What the loader returned.
    """
    try:
        if loader is None:
            return torch.load(path, map_location='cpu', weights_only=True)
        return loader(path)
    except Exception as err:  # noqa: BLE001 - name the file
        first = (str(err).strip().splitlines() or [''])[0]
        raise WeightsFileError(
            f'{field}: cannot read {path!r}: truncated or not a torch '
            f'weights file ({type(err).__name__}: {first[:200]})') from err


def check_finite(state: Dict[str, Any], what: str) -> None:
    """Refuse a state dict whose floating-point tensors hold NaN or inf.

    Args:
        state (dict): Key -> tensor (other values ignored).
        what (str): How to call the file in the message
            (``"checkpoint 'x.pth'"``, ``"vgg_path 'x.pth'"``).
    """
    bad = [
        k for k, v in state.items() if isinstance(v, torch.Tensor)
        and v.is_floating_point() and not bool(torch.isfinite(v).all())
    ]
    if bad:
        more = f' (+{len(bad) - 3} more)' if len(bad) > 3 else ''
        raise WeightsFileError(
            f'{what}: {len(bad)} tensor(s) contain NaN/inf values: '
            f'{", ".join(bad[:3])}{more}; expected finite weights (a '
            'diverged training run or a damaged file)')
