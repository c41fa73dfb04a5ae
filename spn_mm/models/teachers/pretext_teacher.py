"""Frozen pretext model tapped with forward hooks (SPN paper Sec. 3.1.1)."""
import copy
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from spn_mm.registry import MODELS
from spn_mm.utils.cli_errors import ConfigKeyError
from .base_teacher import (TAP_RESIZE_MODES, BaseTeacher, check_channels,
                           resize_to)
from .teacher_checkpoint import get_key_map, load_into, load_teacher_state_dict


class _StopForward(Exception):
    """Raised by the last tap hook to skip the rest of the pretext model."""


def _get_module(root: nn.Module, path: str, what: str) -> nn.Module:
    module = root
    for part in path.split('.'):
        children = dict(module.named_children())
        if part not in children:
            raise ConfigKeyError(
                f'PretextTeacher: {what} {path!r} does not exist in the '
                f'built model; at {part!r} the available children are '
                f'{sorted(children)}')
        module = children[part]
    return module


def _parse_tap(tap: str) -> Tuple[str, Optional[int]]:
    if not isinstance(tap, str) or not tap:
        raise TypeError(f'PretextTeacher: a tap must be a dotted module path '
                        f'(optionally "path:index"), got {tap!r}')
    if ':' in tap:
        path, index = tap.rsplit(':', 1)
        if not index.lstrip('-').isdigit():
            raise ValueError(f'PretextTeacher: tap {tap!r}: the part after '
                             f'":" must be an integer output index')
        return path, int(index)
    return tap, None


def _find_forbidden_weights(cfg: Any, where: str = 'model') -> List[str]:
    """Config entries that would load weights while building/initialising."""
    found = []
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            sub = f'{where}.{key}'
            if key == 'pretrained' and value:
                found.append(f'{sub}={value!r}')
            elif key == 'checkpoint_path' and value:
                found.append(f'{sub}={value!r}')
            elif key == 'init_cfg' and value:
                inits = value if isinstance(value, (list, tuple)) else [value]
                for init in inits:
                    if isinstance(init,
                                  dict) and init.get('type') == 'Pretrained':
                        found.append(f'{sub}={init!r}')
            else:
                found += _find_forbidden_weights(value, sub)
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            found += _find_forbidden_weights(value, f'{where}[{i}]')
    return found


@MODELS.register_module()
class PretextTeacher(BaseTeacher):
    """A registry model used as frozen distillation teacher via taps.

    The model is built from a registry config (``mmpretrain.*``, ``mmseg.*``
    prefixes or ``_scope_``; nested configs such as classifiers or
    segmentors need ``_scope_``; ``mmdet.*`` models work too if the user
    installs mmdet, e.g. for the paper's YOLOv5 ablation). Building never
    reads weights: ``pretrained``/``checkpoint_path``/``Pretrained`` init
    configs are rejected, weights come from the local ``checkpoint`` in
    :meth:`init_weights`.

    Forward: the un-masked image (B, 3, H, W) in [-1, 1] becomes [0, 1] RGB,
    is up-sampled ``upsample_factor``x (bilinear), optionally reordered to
    BGR and normalised with ``mean``/``std`` (in [0, 1] units, given in the
    model's channel order), and fed to the model. Forward hooks record the
    outputs of the ``taps`` (dotted module paths, fine -> coarse, one per
    pyramid level; ``'path:i'`` selects item ``i`` of a module returning a
    list/tuple, e.g. HRNet's ``backbone.stage4:0``). A module called
    several times in one forward contributes its first output.

    Truncation: with ``stop_after_last_tap`` the hook that records the last
    missing tap raises a private exception that ends the model's forward,
    so later stages never run; ``prune`` replaces sub-modules by
    ``nn.Identity`` so their weights are not even kept (and their keys are
    skipped when loading a full checkpoint).

    Each tap is resized to its level size ``(H / 2**l, W / 2**l)`` with its
    ``tap_resize`` mode: ``'auto'`` (default: identity when equal, bilinear
    up, area down), ``'nearest'`` (official: the TResNet stem output at
    2H/4 is nearest-up-sampled to H), ``'bilinear'``, ``'area'`` or
    ``'none'`` (sizes must already match).

    Args:
        model (dict): Registry config of the pretext model.
        taps (Sequence[str]): Module paths, fine -> coarse.
        num_scales (int, optional): Return the ``num_scales`` coarsest taps
            (only those are hooked). Default: None (all).
        tap_resize (str | Sequence[str]): Resize mode for all taps or one per
            tap. Default: ``'auto'``.
        mean (Sequence[float], optional): Per-channel mean in [0, 1] units.
            Default: None (no normalisation, e.g. ASL TResNet).
        std (Sequence[float], optional): Per-channel std in [0, 1] units.
            Default: None.
        channel_order (str): ``'rgb'`` or ``'bgr'`` input for the model.
            Default: ``'rgb'``.
        upsample_factor (int): See :class:`BaseTeacher`. Default: 2.
        upsample_mode (str): See :class:`BaseTeacher`. Default: 'bilinear'.
        forward_method (str, optional): Method of the model to call (e.g.
            ``'extract_feat'``). Default: None (``model(x)``).
        prune (Sequence[str]): Module paths replaced by ``nn.Identity``.
            Default: ().
        stop_after_last_tap (bool): End the forward once every tap has been
            recorded. Default: True.
        out_channels (Sequence[int], optional): Channels of every tap
            (fine -> coarse, all taps). Default: None (dry run on a
            ``dry_run_size`` image on first access).
        dry_run_size (int): Base image size of the dry run. Default: 32.
        checkpoint (str, optional): Local weight file loaded by
            :meth:`init_weights`. Default: None (the model's own random
            init).
        checkpoint_key (str): Config key named in errors about
            ``checkpoint``. Default: ``'model.teacher.checkpoint'``.
        checkpoint_prefix (str, optional): Keep only checkpoint keys with
            this prefix and strip it (e.g. ``'backbone.'``). Default: None.
        checkpoint_key_map (str, optional): Name in
            :data:`TEACHER_KEY_MAPS` (e.g. ``'asl_tresnet'``). Default: None.
        checkpoint_target_prefix (str): Prefix added to every (mapped) key,
            i.e. where the weights live in the built model (e.g.
            ``'timm_model.'`` for ``TIMMBackbone``). Default: ``''``.
        strict (bool): Error (instead of a warning) on checkpoint keys the
            kept model lacks. Missing kept weights are always an error.
            Default: False.
        persistent (bool): See :class:`BaseTeacher`. Default: False.
        init_cfg (dict, optional): Must not be ``Pretrained``. Default: None.
    """

    def __init__(self,
                 model: dict,
                 taps: Sequence[str],
                 num_scales: Optional[int] = None,
                 tap_resize: Union[str, Sequence[str]] = 'auto',
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 channel_order: str = 'rgb',
                 upsample_factor: int = 2,
                 upsample_mode: str = 'bilinear',
                 forward_method: Optional[str] = None,
                 prune: Sequence[str] = (),
                 stop_after_last_tap: bool = True,
                 out_channels: Optional[Sequence[int]] = None,
                 dry_run_size: int = 32,
                 checkpoint: Optional[str] = None,
                 checkpoint_key: str = 'model.teacher.checkpoint',
                 checkpoint_prefix: Optional[str] = None,
                 checkpoint_key_map: Optional[str] = None,
                 checkpoint_target_prefix: str = '',
                 strict: bool = False,
                 persistent: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(taps, str):
            taps = [taps]
        taps = list(taps)
        super().__init__(
            num_levels=len(taps),
            num_scales=num_scales,
            upsample_factor=upsample_factor,
            upsample_mode=upsample_mode,
            persistent=persistent,
            init_cfg=init_cfg)
        if not isinstance(model, dict) or 'type' not in model:
            raise TypeError('PretextTeacher: `model` must be a registry '
                            f'config dict with a "type", got {model!r}')
        forbidden = _find_forbidden_weights(dict(model))
        if init_cfg:
            forbidden += _find_forbidden_weights(
                dict(init_cfg=init_cfg), 'teacher')
        if forbidden:
            raise ValueError(
                'PretextTeacher: building a teacher must not load weights; '
                f'remove {forbidden} and pass the local file as '
                f'`checkpoint` ({checkpoint_key}) instead')
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError('PretextTeacher: channel_order must be "rgb" or '
                             f'"bgr", got {channel_order!r}')
        if (mean is None) != (std is None):
            raise ValueError('PretextTeacher: give both mean and std or '
                             'neither')
        if isinstance(tap_resize, str):
            tap_resize = [tap_resize] * len(taps)
        tap_resize = list(tap_resize)
        if len(tap_resize) != len(taps) or any(m not in TAP_RESIZE_MODES
                                               for m in tap_resize):
            raise ValueError(
                f'PretextTeacher: tap_resize must be one of '
                f'{TAP_RESIZE_MODES} or a list of them, one per tap '
                f'({len(taps)}), got {tap_resize}')

        self.model_cfg = copy.deepcopy(dict(model))
        self.taps = taps
        self.tap_resize = tap_resize
        self.channel_order = channel_order
        self.forward_method = forward_method
        self.prune = list(prune)
        self.stop_after_last_tap = stop_after_last_tap
        self.dry_run_size = dry_run_size
        self.checkpoint = checkpoint
        self.checkpoint_key = checkpoint_key
        self.checkpoint_prefix = checkpoint_prefix
        self.checkpoint_key_map = checkpoint_key_map
        self.checkpoint_target_prefix = checkpoint_target_prefix
        self.strict = strict
        get_key_map(checkpoint_key_map)  # fail early on unknown names
        self._tap_channels = check_channels('PretextTeacher', out_channels,
                                            len(taps))

        if mean is not None:
            if len(mean) != 3 or len(std) != 3 or any(s <= 0 for s in std):
                raise ValueError('PretextTeacher: mean/std must have 3 '
                                 f'entries (std > 0), got {mean}, {std}')
            self.register_buffer(
                'mean',
                torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                persistent=False)
            self.register_buffer(
                'std',
                torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                persistent=False)
        else:
            self.mean = None
            self.std = None

        self.model = self.build_model(self.model_cfg)
        self._prune_modules()
        self.after_prune()
        self._register_taps()
        self.freeze()

    # ------------------------------------------------------------------ #
    # construction
    # ------------------------------------------------------------------ #
    def build_model(self, cfg: dict) -> nn.Module:
        """Build the pretext model from its registry config (no weights)."""
        return MODELS.build(copy.deepcopy(cfg))

    def after_prune(self) -> None:
        """Hook called once the model is built and pruned (no-op)."""

    def _prune_modules(self) -> None:
        for path in self.prune:
            _get_module(self.model, path, 'pruned module')
            parent_path, _, name = path.rpartition('.')
            parent = (
                _get_module(self.model, parent_path, 'pruned module parent')
                if parent_path else self.model)
            setattr(parent, name, nn.Identity())

    def _register_taps(self) -> None:
        self._captured: Dict[int, Tensor] = {}
        self._capturing = False
        self._tap_specs = [_parse_tap(t) for t in self.taps]
        for path, _ in self._tap_specs:
            for pruned in self.prune:
                if path == pruned or path.startswith(pruned + '.'):
                    raise ValueError(f'PretextTeacher: tap {path!r} lies in '
                                     f'the pruned module {pruned!r}')
        for level in self.levels:
            path, _ = self._tap_specs[level]
            module = _get_module(self.model, path, 'tap')
            module.register_forward_hook(partial(self._tap_hook, level))

    def _tap_hook(self, level: int, module: nn.Module, args: Any,
                  output: Any) -> None:
        if not self._capturing or level in self._captured:
            return
        path, index = self._tap_specs[level]
        if index is not None:
            if not isinstance(output, (list, tuple)):
                raise TypeError(
                    f'PretextTeacher: tap {self.taps[level]!r} selects item '
                    f'{index} but {path!r} returned a '
                    f'{type(output).__name__}')
            output = output[index]
        if not isinstance(output, Tensor) or output.dim() != 4:
            raise TypeError(
                f'PretextTeacher: tap {self.taps[level]!r} must produce a '
                f'(B, C, h, w) tensor, got '
                f'{getattr(output, "shape", type(output).__name__)}')
        # clone: later in-place ops (e.g. ReLU(inplace)) must not alter it
        self._captured[level] = output.clone()
        if self.stop_after_last_tap and len(self._captured) == len(
                self.levels):
            raise _StopForward

    # ------------------------------------------------------------------ #
    # forward
    # ------------------------------------------------------------------ #
    def normalize(self, x: Tensor) -> Tensor:
        """Apply the model's channel order and mean/std to a [0, 1] RGB view.

        Args:
            x (Tensor): (B, 3, h, w) RGB in [0, 1].

        Returns:
            Tensor: (B, 3, h, w) the model's input.
        """
        if self.channel_order == 'bgr':
            x = x.flip(1)
        if self.mean is not None:
            x = (x - self.mean.to(x)) / self.std.to(x)
        return x

    def run_taps(self, x: Tensor) -> List[Tensor]:
        """Run the model on a prepared view and return the raw taps.

        Args:
            x (Tensor): (B, 3, h, w) RGB in [0, 1].

        Returns:
            list[Tensor]: Un-resized outputs of the returned taps,
            fine -> coarse.
        """
        x = self.normalize(x)
        call = (
            self.model if self.forward_method is None else getattr(
                self.model, self.forward_method))
        self._captured = {}
        self._capturing = True
        try:
            call(x)
        except _StopForward:
            pass
        finally:
            self._capturing = False
        captured, self._captured = self._captured, {}
        missing = [
            self.taps[lvl] for lvl in self.levels if lvl not in captured
        ]
        if missing:
            raise RuntimeError(
                f'PretextTeacher: taps {missing} were never executed by '
                f'the model forward '
                f'({self.forward_method or "__call__"})')
        return [captured[lvl] for lvl in self.levels]

    def extract(self, x: Tensor, sizes: List[Tuple[int, int]]) -> List[Tensor]:
        """Run the taps and resize them to the level sizes (arguments and
        result as :meth:`BaseTeacher.extract`)."""
        feats = self.run_taps(x)
        outs = []
        for level, feat, size in zip(self.levels, feats, sizes):
            try:
                outs.append(resize_to(feat, size, self.tap_resize[level]))
            except ValueError as err:
                raise ValueError(
                    f'PretextTeacher: tap {self.taps[level]!r}: {err}'
                ) from None
        return outs

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned targets, fine -> coarse."""
        if self._tap_channels is None:
            self._tap_channels = self._dry_run_channels()
        return [self._tap_channels[lvl] for lvl in self.levels]

    def _dry_run_channels(self) -> List[int]:
        """Tap channels from a forward on a small constant image."""
        param = next(iter(self.model.parameters()), None)
        device = param.device if param is not None else torch.device('cpu')
        size = self.dry_run_size
        img = torch.zeros(1, 3, size, size, device=device)
        with torch.no_grad():
            feats = self.run_taps(self.prepare_input(img))
        channels = [0] * self.num_levels
        for level, feat in zip(self.levels, feats):
            channels[level] = int(feat.shape[1])
        return channels

    # ------------------------------------------------------------------ #
    # weights
    # ------------------------------------------------------------------ #
    def init_weights(self) -> None:
        """Load ``checkpoint`` (local file) or random-init the model.

        Called by mmengine's Runner for training. Raises
        ``FileNotFoundError`` naming ``checkpoint_key`` and the path when the
        file is missing.
        """
        if self.checkpoint is None:
            if hasattr(self.model, 'init_weights'):
                self.model.init_weights()
        else:
            self.load_checkpoint(self.checkpoint)
        self._is_init = True
        self.freeze()

    def load_checkpoint(self, path: str) -> List[str]:
        """Load the teacher weights from a local file.

        Args:
            path (str): Local checkpoint path.

        Returns:
            list[str]: Names of the loaded model entries.
        """
        state = load_teacher_state_dict(path, self.checkpoint_key,
                                        self.checkpoint_prefix)
        key_map = get_key_map(self.checkpoint_key_map)
        if key_map is not None:
            state = key_map(state)
        if self.checkpoint_target_prefix:
            state = {
                self.checkpoint_target_prefix + k: v
                for k, v in state.items()
            }
        loaded, _ = load_into(
            self.model,
            state,
            self.checkpoint_key,
            path,
            ignore_prefixes=[p + '.' for p in self.prune],
            strict=self.strict)
        return loaded
