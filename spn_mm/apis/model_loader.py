"""Build an SPN model for inference and load a trained/converted checkpoint.

Inference needs the generator only. :func:`build_inference_model` therefore
builds the config's model **without** its training-only parts (teacher,
discriminator, losses): no teacher or VGG weight file is ever opened, so a
config whose ``model.teacher.checkpoint`` or ``vgg_path`` does not exist on
this machine works.

:func:`load_inference_checkpoint` loads

* every ``generator.*`` tensor **strictly** (a missing, unexpected or
  mis-shaped generator key is an error naming the keys - usually a config
  that does not match the checkpoint, e.g. deterministic vs probabilistic);
* and ignores teacher keys (``teacher.*``, also under wrappers),
  discriminator keys (``disc.*``) and anything else, listing them in the
  returned report.

Accepted files: mmengine checkpoints (``{'state_dict': ..., 'meta': ...}``,
e.g. ``iter_N.pth`` or the output of
``tools/model_converters/spn_official_to_mmagic.py``), bare model state
dicts, and bare generator state dicts (keys ``prior_learner.*``,
``image_generator.*``, ``variational.*``). ``module.`` prefixes (DDP) are
removed.
"""
import copy
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.runner import CheckpointLoader

from spn_mm.models.teachers.base_teacher import strip_teacher_keys
from spn_mm.registry import MODELS
from spn_mm.utils.weights_io import (WeightsFileError, check_finite,
                                     load_weights_file)

#: Model fields only used in training; dropped for inference.
TRAINING_ONLY_FIELDS = ('teacher', 'vgg', 'disc', 'loss_gan', 'loss_rec',
                        'loss_prior', 'loss_kl', 'loss_percep',
                        'loss_diversity', 'loss_fm', 'loss_gp',
                        'loss_disc_shift', 'loss_composed_percep',
                        'loss_l1_hole', 'loss_l1_valid', 'loss_tv')
_GENERATOR_PARTS = ('prior_learner.', 'image_generator.', 'variational.')


class ConfigError(ValueError):
    """A config file that cannot be loaded or has no ``model``."""


class DeviceError(ValueError, RuntimeError):
    """A requested device that this machine does not have (a user error;
    also a ``RuntimeError``, as torch reports device problems)."""


def resolve_device(device: Union[str, torch.device, None]) -> torch.device:
    """Check a device request.

    Args:
        device (str | torch.device | None): ``'cpu'``, ``'cuda'``,
            ``'cuda:1'``...; None picks CUDA when available.

    Returns:
        torch.device: The device.
    """
    if device is None:
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got "
                         f'{device!r}') from err
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise DeviceError(f'device {str(device)!r} was requested but '
                              'CUDA is not available; use device="cpu"')
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f'device {str(device)!r}: only {torch.cuda.device_count()} '
                'CUDA device(s) are visible')
    elif dev.type != 'cpu':
        raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got "
                         f'{device!r}')
    return dev


def load_config(config: Union[str, os.PathLike, Config, dict],
                cfg_options: Optional[dict] = None) -> Config:
    """Load a config file (or copy a Config/dict) and merge options.

    Args:
        config (str | PathLike | Config | dict): Config path or object.
        cfg_options (dict, optional): ``key.sub=value`` overrides.

    Returns:
        Config: A new config with a ``model`` field.
    """
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {path!r}')
        try:
            cfg = Config.fromfile(path)
        except (SyntaxError, ImportError, KeyError, ValueError, TypeError,
                AttributeError, NameError, OSError) as err:
            first = (str(err).strip().splitlines() or [''])[0]
            raise ConfigError(
                f'config {path!r}: cannot load it ({type(err).__name__}: '
                f'{first[:200]})') from err
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif isinstance(config, dict):
        cfg = Config(copy.deepcopy(config))
    else:
        raise TypeError('config: expected a path, a Config or a dict, got '
                        f'{type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ConfigError('config: no `model` field (expected an SPN config '
                          'such as configs/spn_places2.py)')
    return cfg


def inference_model_cfg(cfg: Config, keep_teacher: bool = False) -> dict:
    """The model config without training-only parts.

    Args:
        cfg (Config): Full config.
        keep_teacher (bool): Keep ``model.teacher`` (for visualising its
            features). Default: False.

    Returns:
        dict: ``cfg.model`` with teacher and ``loss_prior`` (unless the
        teacher is kept), discriminator and the other losses set to None and
        no ``init_cfg``.
    """
    model_cfg = copy.deepcopy(cfg.model)
    for field in TRAINING_ONLY_FIELDS:
        # the teacher comes with its (weight-free) distillation loss
        if keep_teacher and field in ('teacher', 'loss_prior'):
            continue
        if field in model_cfg:
            model_cfg[field] = None
    model_cfg.pop('init_cfg', None)
    return model_cfg


def build_inference_model(config: Union[str, os.PathLike, Config, dict],
                          cfg_options: Optional[dict] = None,
                          keep_teacher: bool = False) -> nn.Module:
    """Build the config's model for inference (on CPU, eval mode).

    Args:
        config (str | PathLike | Config | dict): SPN config.
        cfg_options (dict, optional): Config overrides.
        keep_teacher (bool): Also build the teacher and load its weights
            (``teacher.init_weights()``; needs ``model.teacher.checkpoint``
            for pretrained teachers). Default: False.

    Returns:
        nn.Module: The model (e.g. :class:`SPNInpaintor`) with a
        ``generator`` attribute and ``cfg`` set to the loaded config.
    """
    cfg = load_config(config, cfg_options)
    model_cfg = inference_model_cfg(cfg, keep_teacher)
    scope = cfg.get('default_scope', 'mmagic') or 'mmagic'
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(model_cfg)
    generator = getattr(model, 'generator', None)
    if generator is None or not hasattr(generator, 'forward_test'):
        raise TypeError(
            f'config: model.type={model_cfg.get("type")!r} has no SPN '
            '`generator` with forward_test(); expected an SPNInpaintor config')
    if keep_teacher and getattr(model, 'teacher', None) is not None:
        model.teacher.init_weights()
    model.cfg = cfg
    model.eval()
    return model


class CheckpointError(WeightsFileError):
    """A checkpoint file that is unreadable, foreign or non-finite."""


def _unwrap_state_dict(ckpt: object, path: str) -> Dict[str, torch.Tensor]:
    if isinstance(ckpt, dict) and 'state_dict' in ckpt and isinstance(
            ckpt['state_dict'], dict):
        ckpt = ckpt['state_dict']
    if not isinstance(ckpt, dict) or not ckpt or not all(
            isinstance(k, str) for k in ckpt):
        raise CheckpointError(
            f'checkpoint {path!r}: expected a state dict or an '
            "mmengine checkpoint {'state_dict': ...}")
    out = {}
    for key, value in ckpt.items():
        while key.startswith('module.'):
            key = key[len('module.'):]
        out[key] = value
    return out


def read_checkpoint(checkpoint: Union[str, os.PathLike, dict],
                    map_location: str = 'cpu') -> Tuple[Dict, str]:
    """Read a checkpoint's state dict and refuse damaged ones.

    A truncated or foreign file (not a torch checkpoint, or not a state
    dict) and NaN/inf weights raise :class:`CheckpointError`, a missing
    file ``FileNotFoundError``, each with one line naming the file.

    Args:
        checkpoint (str | PathLike | dict): File path, or an already loaded
            checkpoint / state dict.
        map_location (str): Where tensors are loaded. Default: ``'cpu'``.

    Returns:
        tuple[dict, str]: The state dict (``module.`` prefixes removed) and
        the name used in messages (the path or ``'<in-memory>'``).
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint file not found: {path!r}')
        try:
            ckpt = load_weights_file(
                path, 'checkpoint',
                lambda p: CheckpointLoader.load_checkpoint(p, map_location))
        except WeightsFileError as err:
            raise CheckpointError(str(err)) from err
    else:
        path, ckpt = '<in-memory>', checkpoint
    state = _unwrap_state_dict(ckpt, path)
    try:
        check_finite(state, f'checkpoint {path!r}')
    except WeightsFileError as err:
        raise CheckpointError(str(err)) from err
    return state, path


def split_generator_state(state: Dict, path: str = '<in-memory>'
                          ) -> Tuple[Dict, Dict[str, List]]:
    """The generator tensors of a checkpoint's state dict.

    Args:
        state (dict): A state dict from :func:`read_checkpoint` (a model's,
            ``generator.*`` keys, or a bare generator's).
        path (str): The name used in messages.

    Returns:
        tuple[dict, dict[str, list[str]]]: The generator state dict (keys
        without ``generator.`` and wrapper ``module.`` prefixes) and the
        ``ignored_teacher``, ``ignored_disc`` and ``ignored_other`` keys.

    Raises:
        CheckpointError: No generator weights in ``state``.
    """
    without_teacher = strip_teacher_keys(state)
    report = dict(
        ignored_teacher=sorted(set(state) - set(without_teacher)),
        ignored_disc=[],
        ignored_other=[])
    gen_state = {}
    for key, value in without_teacher.items():
        if key.startswith('generator.'):
            sub = key[len('generator.'):]
            # a generator that was DDP-wrapped on its own when saved
            # (mmengine's MMSeparateDistributedDataParallel): generator.module.*
            while sub.startswith('module.'):
                sub = sub[len('module.'):]
            gen_state[sub] = value
        elif key.startswith('disc.'):
            report['ignored_disc'].append(key)
        else:
            report['ignored_other'].append(key)
    if not gen_state and any(
            k.startswith(_GENERATOR_PARTS) for k in without_teacher):
        # a bare SPNGenerator state dict
        gen_state = {
            k: v
            for k, v in without_teacher.items()
            if k.startswith(_GENERATOR_PARTS)
        }
        report['ignored_other'] = [
            k for k in report['ignored_other'] if k not in gen_state
        ]
    if not gen_state:
        raise CheckpointError(
            f'checkpoint {path!r} has no SPN generator weights (no '
            "'generator.*' keys). Official SPN checkpoints must be converted "
            'first: python tools/model_converters/spn_official_to_mmagic.py '
            'IN.pt OUT.pth')
    return gen_state, report


def check_generator_state(generator: nn.Module, gen_state: Dict,
                          path: str = '<in-memory>') -> None:
    """Refuse generator weights that do not fit ``generator`` exactly.

    Args:
        generator (nn.Module): The config's generator.
        gen_state (dict): From :func:`split_generator_state`.
        path (str): The name used in messages.

    Raises:
        CheckpointError: One line naming the missing, unexpected and
            mis-shaped keys (usually a config other than the one the
            checkpoint was trained or converted with).
    """
    expected = generator.state_dict()
    missing = sorted(set(expected) - set(gen_state))
    unexpected = sorted(set(gen_state) - set(expected))
    mismatched = sorted(
        k for k in set(expected) & set(gen_state)
        if tuple(expected[k].shape) != tuple(gen_state[k].shape))
    if not (missing or unexpected or mismatched):
        return

    def head(keys: List[str]) -> str:
        more = f' (+{len(keys) - 5} more)' if len(keys) > 5 else ''
        return ', '.join(keys[:5]) + more

    parts = []
    if missing:
        parts.append(f'{len(missing)} missing: {head(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected: {head(unexpected)}')
    if mismatched:
        shapes = [
            f'{k} {tuple(gen_state[k].shape)} vs '
            f'{tuple(expected[k].shape)}' for k in mismatched[:3]
        ]
        parts.append(f'{len(mismatched)} with other shapes: ' +
                     '; '.join(shapes))
    raise CheckpointError(
        f'checkpoint {path!r} does not match the generator of the '
        'config (is the config the one the checkpoint was trained/'
        'converted with, e.g. deterministic vs probabilistic, same '
        'widths?): ' + ' | '.join(parts))


def load_inference_checkpoint(model: nn.Module,
                              checkpoint: Union[str, os.PathLike, dict],
                              map_location: str = 'cpu') -> Dict[str, List]:
    """Load a checkpoint into an inference model (see the module doc).

    Args:
        model (nn.Module): Model with a ``generator`` attribute.
        checkpoint (str | PathLike | dict): File path, or an already loaded
            checkpoint / state dict.
        map_location (str): Where tensors are loaded. Default: ``'cpu'``.

    Returns:
        dict[str, list[str]]: ``loaded`` (generator keys), ``ignored_teacher``,
        ``ignored_disc`` and ``ignored_other`` keys.
    """
    state, path = read_checkpoint(checkpoint, map_location)
    gen_state, ignored_keys = split_generator_state(state, path)
    report = dict(loaded=[], **ignored_keys)
    generator = model.generator
    check_generator_state(generator, gen_state, path)
    generator.load_state_dict(gen_state, strict=True)
    report['loaded'] = sorted(gen_state)
    ignored = {k: len(v) for k, v in report.items() if k != 'loaded' and v}
    print_log(
        f'SPN inference: loaded {len(gen_state)} generator tensors from '
        f'{path}' + (f'; ignored {ignored}' if ignored else ''),
        logger='current')
    return report


def init_spn_model(config: Union[str, os.PathLike, Config, dict],
                   checkpoint: Optional[Union[str, os.PathLike, dict]] = None,
                   device: Union[str, torch.device, None] = 'cpu',
                   cfg_options: Optional[dict] = None,
                   keep_teacher: bool = False) -> nn.Module:
    """Build an SPN model for inference, load its weights, move it.

    Args:
        config (str | PathLike | Config | dict): SPN config.
        checkpoint (str | PathLike | dict, optional): Trained or converted
            checkpoint. None keeps random weights (warns; for tests).
        device (str | torch.device | None): ``'cpu'`` or ``'cuda[:N]'``.
        cfg_options (dict, optional): Config overrides.
        keep_teacher (bool): See :func:`build_inference_model`.

    Returns:
        nn.Module: The model in eval mode on ``device``, with
        ``load_report`` (see :func:`load_inference_checkpoint`; None
        without checkpoint).
    """
    dev = resolve_device(device)
    model = build_inference_model(config, cfg_options, keep_teacher)
    report = None
    if checkpoint is not None:
        report = load_inference_checkpoint(model, checkpoint)
    else:
        print_log(
            'SPN inference: no checkpoint given, the generator keeps its '
            'RANDOM initial weights',
            logger='current',
            level=30)
    model.load_report = report
    model.to(dev)
    model.eval()
    return model
