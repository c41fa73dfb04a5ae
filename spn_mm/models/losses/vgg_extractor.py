"""One frozen VGG19 feature extractor shared by the SPN VGG losses.

How sharing works
-----------------
:class:`SPNVGGFeatures` is what the SPN VGG losses see of an image
(preprocessing + VGG19); ``SPNInpaintor`` owns one (``model.vgg``) and feeds
its features to the perceptual and the diversity loss. The VGG19 itself is
**not** a sub-module of anything: ``SPNVGGFeatures`` only remembers a key
``(vgg_path, allow_random)`` and asks :func:`get_vgg19_extractor` for the
extractor of the device of its input at every call. The function keeps a
module-level cache:

* one master copy per weight source (absolute ``vgg_path``, or ``None`` for
  random weights), built on the CPU on first use;
* one copy per ``(source, device)``, made from the master on first use on
  that device.

Therefore every ``SPNVGGFeatures`` with the same ``vgg_path`` (also the
own one of a loss used on its own) uses the *same* frozen module, the
weights are loaded once, and they
never appear in the model's ``state_dict`` / checkpoints / optimiser /
DDP wrapper. ``model.to(device)`` need not move them: the copy for the
input's device is fetched lazily. :func:`clear_vgg19_cache` frees them.
"""
import copy
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from spn_mm.registry import MODELS
from spn_mm.utils.weights_io import (WeightsKeyError, check_finite,
                                     load_weights_file)

# torchvision's VGG19 ('E') feature configuration.
VGG19_CFG: Tuple = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512,
                    512, 512, 512, 'M', 512, 512, 512, 512, 'M')

#: Default layers of the official SPN perceptual / diversity losses.
SPN_VGG_LAYERS: Tuple[str, ...] = ('relu1_1', 'relu2_1', 'relu3_1', 'relu4_1',
                                   'relu5_1')


def _vgg19_layer_indices() -> Dict[str, int]:
    """Map ``reluX_Y`` / ``convX_Y`` / ``poolX`` to ``features`` indices."""
    names: Dict[str, int] = {}
    idx, block, conv = 0, 1, 1
    for v in VGG19_CFG:
        if v == 'M':
            names[f'pool{block}'] = idx
            idx += 1
            block += 1
            conv = 1
        else:
            names[f'conv{block}_{conv}'] = idx
            names[f'relu{block}_{conv}'] = idx + 1
            idx += 2
            conv += 1
    return names


VGG19_LAYER_INDICES: Dict[str, int] = _vgg19_layer_indices()


def _build_vgg19_features() -> nn.Sequential:
    """torchvision's ``vgg19(weights=None).features`` (same layers and
    indices), built without the large classifier."""
    try:
        from torchvision.models.vgg import cfgs, make_layers
        return make_layers(cfgs['E'], batch_norm=False)
    except (ImportError, KeyError):  # pragma: no cover - old torchvision
        from torchvision.models import vgg19
        return vgg19(weights=None).features


def load_vgg19_features_state(path: str,
                              field: str = 'vgg_path') -> Dict[str, Tensor]:
    """Read a VGG19 ``features`` state dict from a local file.

    Accepted layouts: a torchvision VGG19 state dict (``features.N.weight``
    keys, the classifier is ignored), a plain ``features`` state dict
    (``N.weight``), either optionally wrapped in ``{'state_dict': ...}`` and
    optionally prefixed with ``module.``.

    Args:
        path (str): Local file.
        field (str): Config field named in error messages.

    Returns:
        dict: ``{'N.weight': ..., 'N.bias': ...}``.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field}: VGG19 weights file not found: {path!r}. Point {field} '
            'to a local torchvision VGG19 checkpoint (e.g. '
            'vgg19-dcbb9e9d.pth); nothing is downloaded.')
    ckpt = load_weights_file(path, field)
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        ckpt = ckpt['state_dict']
    if not isinstance(ckpt, dict):
        raise ValueError(f'{field}: {path!r} does not hold a state dict.')
    check_finite(ckpt, f'{field} {path!r}')
    state = {}
    for key, val in ckpt.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if key.startswith('features.'):
            key = key[len('features.'):]
        head = key.split('.', 1)[0]
        if head.isdigit():
            state[key] = val
    if not state:
        raise ValueError(
            f'{field}: {path!r} has no VGG19 features weights (expected '
            'keys like "features.0.weight" or "0.weight").')
    return state


@MODELS.register_module()
class SPNVGG19FeatureExtractor(nn.Module):
    """Frozen VGG19 (torchvision layout, no ImageNet normalisation inside).

    The extractor always runs in eval mode with ``requires_grad=False``;
    gradients still flow to its *input*. Normalisation of the input is the
    caller's job (see :class:`SPNPerceptualLoss`). Prefer
    :func:`get_vgg19_extractor` to share one instance.

    Args:
        vgg_path (str, optional): Local VGG19 weights (see
            :func:`load_vgg19_features_state`). Default: None.
        allow_random (bool): With ``vgg_path=None``, use random weights
            (seeded, for tests) after a loud warning; otherwise raise.
            Default: False.
        last_layer (str): Deepest layer kept (``features`` is truncated
            after it). Default: ``'relu5_1'``.
    """

    def __init__(self,
                 vgg_path: Optional[str] = None,
                 allow_random: bool = False,
                 last_layer: str = 'relu5_1') -> None:
        super().__init__()
        if last_layer not in VGG19_LAYER_INDICES:
            raise ValueError(f'last_layer: unknown VGG19 layer {last_layer!r}'
                             f'; choose from {list(VGG19_LAYER_INDICES)}')
        if vgg_path is None and not allow_random:
            raise ValueError(
                'vgg_path is None: the SPN VGG losses need local VGG19 '
                'weights (vgg_path=...); set allow_random=True only for '
                'tests.')
        self.vgg_path = vgg_path
        self.last_index = VGG19_LAYER_INDICES[last_layer]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # reproducible random weights
            features = _build_vgg19_features()
        self.features = features[:self.last_index + 1]
        if vgg_path is None:
            warnings.warn(
                'SPNVGG19FeatureExtractor: vgg_path=None and '
                'allow_random=True -> VGG19 has RANDOM weights. Perceptual '
                'and diversity losses are meaningless; use only in tests.',
                UserWarning,
                stacklevel=2)
        else:
            state = load_vgg19_features_state(vgg_path)
            state = {
                k: v
                for k, v in state.items()
                if int(k.split('.', 1)[0]) <= self.last_index
            }
            missing = sorted(set(self.features.state_dict()) - set(state))
            if missing:
                raise WeightsKeyError(f'vgg_path: {vgg_path!r} lacks VGG19 weights '
                               f'{missing} (features indices).')
            self.features.load_state_dict(state, strict=True)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'SPNVGG19FeatureExtractor':
        """Always stay in eval mode (frozen)."""
        return super().train(False)

    def forward(self,
                x: Tensor,
                layers: Sequence[str] = SPN_VGG_LAYERS) -> List[Tensor]:
        """Extract features.

        Args:
            x (Tensor): (N, 3, H, W) image, already normalised as wanted.
            layers (Sequence[str]): Layer names (``reluX_Y``, ``convX_Y``,
                ``poolX``) in any order.

        Returns:
            list[Tensor]: One feature map per requested layer, in the order
            of ``layers``.
        """
        wanted = {}
        for name in layers:
            if name not in VGG19_LAYER_INDICES:
                raise ValueError(f'layers: unknown VGG19 layer {name!r}')
            idx = VGG19_LAYER_INDICES[name]
            if idx > self.last_index:
                raise ValueError(f'layers: {name!r} is deeper than this '
                                 'extractor keeps')
            wanted.setdefault(idx, []).append(name)
        last = max(wanted)
        out: Dict[str, Tensor] = {}
        for idx, module in enumerate(self.features):
            x = module(x)
            if idx in wanted:
                for name in wanted[idx]:
                    out[name] = x
            if idx == last:
                break
        return [out[name] for name in layers]


_VGG_CACHE: Dict[Tuple[Optional[str], str], SPNVGG19FeatureExtractor] = {}


def _source_key(vgg_path: Optional[str], allow_random: bool) -> Optional[str]:
    if vgg_path is None:
        if not allow_random:
            raise ValueError(
                'vgg_path is None: the SPN VGG losses need local VGG19 '
                'weights (vgg_path=...); set allow_random=True only for '
                'tests.')
        return None
    return osp.abspath(osp.expanduser(vgg_path))


def get_vgg19_extractor(
    vgg_path: Optional[str] = None,
    allow_random: bool = False,
    device: torch.device = torch.device('cpu')
) -> SPNVGG19FeatureExtractor:
    """Return the shared frozen VGG19 for a weight source and a device.

    Args:
        vgg_path (str, optional): Local weights; ``None`` needs
            ``allow_random=True`` (random weights, tests only).
        allow_random (bool): See above. Default: False.
        device (torch.device | str): Device of the returned copy.

    Returns:
        SPNVGG19FeatureExtractor: The cached instance (the same object for
        the same ``(vgg_path, device)``).
    """
    source = _source_key(vgg_path, allow_random)
    device = torch.device(device)
    if device.type == 'cuda' and device.index is None:
        device = torch.device('cuda', torch.cuda.current_device())
    cpu_key = (source, 'cpu')
    if cpu_key not in _VGG_CACHE:
        if source is not None and not osp.isfile(source):
            raise FileNotFoundError(
                f'vgg_path: VGG19 weights file not found: {vgg_path!r} '
                f'(resolved to {source!r}). Nothing is downloaded; point '
                'vgg_path to a local torchvision VGG19 checkpoint.')
        _VGG_CACHE[cpu_key] = SPNVGG19FeatureExtractor(
            vgg_path=source, allow_random=allow_random)
    key = (source, str(device))
    if key not in _VGG_CACHE:
        _VGG_CACHE[key] = copy.deepcopy(_VGG_CACHE[cpu_key]).to(device)
    return _VGG_CACHE[key]


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@MODELS.register_module()
class SPNVGGFeatures(nn.Module):
    """What the SPN VGG losses see of an image: preprocessing + frozen VGG19.

    ``SPNInpaintor`` owns one (``model.vgg``) and passes its features of the
    prediction to both :class:`SPNPerceptualLoss` and
    :class:`PerceptualDiversityLoss`, so the two losses share one VGG pass
    by construction. A loss used on its own builds one from its
    ``vgg_path``. The VGG19 itself comes from :func:`get_vgg19_extractor`
    (never a sub-module: not in ``state_dict``, not optimised); the weight
    source is validated here and the file is read at the first use.

    Args:
        vgg_path (str, optional): Local VGG19 weights file.
        allow_random (bool): Random VGG weights when ``vgg_path`` is None
            (tests only, warns loudly).
        norm_img (bool): Inputs are in [-1, 1] (mmagic) and are mapped to
            [0, 1] by ``(x + 1) / 2`` first. False: inputs already in [0, 1]
            (what ``SPNInpaintor`` passes).
        input_norm (bool): Then apply ImageNet mean/std (official SPN: off).
    """

    def __init__(self,
                 vgg_path: Optional[str] = None,
                 allow_random: bool = False,
                 norm_img: bool = False,
                 input_norm: bool = False) -> None:
        super().__init__()
        _source_key(vgg_path, allow_random)  # fails now if no weights
        self.vgg_path = vgg_path
        self.allow_random = bool(allow_random)
        self.norm_img = bool(norm_img)
        self.input_norm = bool(input_norm)
        self.register_buffer(
            'mean',
            torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1),
            persistent=False)

    def get_extractor(self, device: Union[str, torch.device] = 'cpu'
                      ) -> SPNVGG19FeatureExtractor:
        """The shared frozen VGG19 on ``device`` (loads it on first use)."""
        return get_vgg19_extractor(self.vgg_path, self.allow_random, device)

    def preprocess(self, img: Tensor) -> Tensor:
        """Map an image to what the VGG sees (see class Args)."""
        if img.dim() != 4 or img.size(1) != 3:
            raise ValueError('VGG losses expect (N, 3, H, W) images, got '
                             f'{tuple(img.shape)}')
        x = (img + 1.) / 2. if self.norm_img else img
        if self.input_norm:
            x = (x - self.mean.to(x)) / self.std.to(x)
        return x

    def forward(self, img: Tensor, layers: Sequence[str]) -> List[Tensor]:
        """VGG features of ``img`` at ``layers`` (gradients flow to
        ``img``), one map per layer in the order of ``layers``."""
        return self.get_extractor(img.device)(self.preprocess(img), layers)


def clear_vgg19_cache() -> None:
    """Drop every cached extractor (frees their memory)."""
    _VGG_CACHE.clear()
