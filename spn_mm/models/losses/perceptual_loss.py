"""VGG19-based losses of probabilistic SPN: perceptual and diversity.

Both losses work on VGG feature lists. In ``SPNInpaintor`` they get them
from the model's one :class:`~spn_mm.models.losses.vgg_extractor.
SPNVGGFeatures` (``model.vgg``, one pass over the predictions for both);
built with ``vgg_path`` (or ``allow_random``) a loss has its own
``SPNVGGFeatures`` and can be called on images. Either way the frozen VGG19
comes from :func:`~spn_mm.models.losses.vgg_extractor.get_vgg19_extractor`:
it is never a sub-module, so it is not in ``state_dict``, not optimised and
not saved in checkpoints.
"""
import itertools
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from spn_mm.registry import MODELS
from .utils import check_mask, repeat_to_batch, resize_mask
from .vgg_extractor import (SPN_VGG_LAYERS, VGG19_LAYER_INDICES,
                            SPNVGG19FeatureExtractor, SPNVGGFeatures)

#: Official SPN perceptual layer weights.
SPN_VGG_LAYER_WEIGHTS: Dict[str, float] = {
    'relu1_1': 1. / 32,
    'relu2_1': 1. / 16,
    'relu3_1': 1. / 8,
    'relu4_1': 1. / 4,
    'relu5_1': 1.,
}

FeatList = List[Tensor]


class _VGGLossMixin(nn.Module):
    """Layer list and the optional own VGG of an SPN VGG loss.

    Args:
        layers (Sequence[str]): VGG19 layer names.
        vgg_path, allow_random, norm_img, input_norm: Build the loss's own
            :class:`SPNVGGFeatures` (to call the loss on images). With
            ``vgg_path=None`` and ``allow_random=False`` the loss has no VGG
            and takes feature lists only (how ``SPNInpaintor`` uses it: its
            ``model.vgg`` computes them once for both VGG losses).
    """

    def __init__(self, layers: Sequence[str], vgg_path: Optional[str],
                 allow_random: bool, norm_img: bool, input_norm: bool) -> None:
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError('layers: at least one VGG19 layer is needed')
        for name in layers:
            if name not in VGG19_LAYER_INDICES:
                raise ValueError(
                    f'layers: unknown VGG19 layer {name!r}; use names like '
                    f'{list(SPN_VGG_LAYERS)}')
        self.layers = layers
        self.vgg: Optional[SPNVGGFeatures] = None
        if vgg_path is not None or allow_random:
            self.vgg = SPNVGGFeatures(vgg_path, allow_random, norm_img,
                                      input_norm)
        elif norm_img or input_norm:
            raise ValueError(
                f'{type(self).__name__}: norm_img/input_norm preprocess the '
                "loss's own VGG input; set vgg_path (or give them to the "
                'SPNVGGFeatures that computes the features)')

    def _own_vgg(self) -> SPNVGGFeatures:
        if self.vgg is None:
            raise ValueError(
                f'{type(self).__name__} has no VGG (vgg_path=None): pass VGG '
                'feature lists, or build the loss with vgg_path=... (or '
                'allow_random=True in tests) to call it on images')
        return self.vgg

    def get_extractor(
            self,
            device: Union[str,
                          torch.device] = 'cpu') -> SPNVGG19FeatureExtractor:
        """The shared frozen VGG19 of this loss's own VGG on ``device``."""
        return self._own_vgg().get_extractor(device)

    def extract(self, img: Tensor) -> FeatList:
        """Features of ``img`` at ``self.layers`` from the loss's own VGG
        (gradients flow to ``img``)."""
        return self._own_vgg()(img, self.layers)

    def _as_feats(self, x: Union[Tensor, Sequence[Tensor]],
                  name: str) -> FeatList:
        if isinstance(x, Tensor):
            return self.extract(x)
        if isinstance(x,
                      (list, tuple)) and all(isinstance(t, Tensor) for t in x):
            if len(x) != len(self.layers):
                raise ValueError(
                    f'{name}: got {len(x)} feature maps but this loss uses '
                    f'{len(self.layers)} VGG layers {self.layers}')
            return list(x)
        raise TypeError(f'{name} must be an image tensor (N, 3, H, W) or a '
                        f'list of {len(self.layers)} VGG feature maps.')


@MODELS.register_module()
class SPNPerceptualLoss(_VGGLossMixin):
    """VGG19 perceptual loss of probabilistic SPN (second term of Eq. 13).

    ``loss_weight * sum_l w_l * mean(|phi_l(pred) - phi_l(target)|)`` where
    each mean is over **N*C_l*H_l*W_l** of layer ``l``. Official defaults:
    layers relu1_1..relu5_1 with weights 1/32, 1/16, 1/8, 1/4, 1, no ImageNet
    normalisation, raw (not composited) prediction, total weight 10
    (official ``l1_weight``; paper lambda_3 = 10).

    Expected input range: **[0, 1]** (``SPNInpaintor`` converts once; the
    official VGG saw [0, 1] images without ImageNet normalisation). Set
    ``norm_img=True`` to pass mmagic's [-1, 1] images instead. Target features
    are computed without gradient. When ``pred`` has ``K*B`` items and
    ``target`` ``B``, the target is repeated ``K`` times (official: x2).

    ``pred`` and ``target`` may be feature lists (ordered like
    ``layers``), e.g. from the inpaintor's ``SPNVGGFeatures``; images need
    the loss's own VGG (``vgg_path``, see :class:`_VGGLossMixin`).

    Args:
        loss_weight (float): Weight. Default: 10.0.
        layer_weights (dict, optional): ``{layer_name: weight}``. Default:
            the official five layers and weights.
        vgg_path (str, optional): Local VGG19 weights of the loss's own VGG
            (torchvision state dict with ``features.N.*`` keys or a plain
            features state dict). Default: None (feature lists only, unless
            ``allow_random``).
        allow_random (bool): With ``vgg_path=None`` use random weights
            (tests only, warns). Default: False.
        norm_img (bool): Inputs are in [-1, 1] and are mapped to [0, 1]
            first. Default: False (inputs in [0, 1]).
        input_norm (bool): ImageNet mean/std normalisation after that
            (official: False). Default: False.
    """

    def __init__(self,
                 loss_weight: float = 10.0,
                 layer_weights: Optional[Dict[str, float]] = None,
                 vgg_path: Optional[str] = None,
                 allow_random: bool = False,
                 norm_img: bool = False,
                 input_norm: bool = False) -> None:
        if layer_weights is None:
            layer_weights = dict(SPN_VGG_LAYER_WEIGHTS)
        if not isinstance(layer_weights, dict) or not layer_weights:
            raise TypeError('layer_weights must be a non-empty dict '
                            '{vgg_layer_name: weight}')
        super().__init__(
            layers=list(layer_weights),
            vgg_path=vgg_path,
            allow_random=allow_random,
            norm_img=norm_img,
            input_norm=input_norm)
        self.loss_weight = float(loss_weight)
        self.layer_weights = {k: float(v) for k, v in layer_weights.items()}

    def forward(self, pred: Union[Tensor, FeatList],
                target: Union[Tensor, FeatList]) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor | list[Tensor]): (N, 3, H, W) image or its feature
                list from :meth:`extract`; ``N = K*B``.
            target (Tensor | list[Tensor]): (N or B, 3, H, W) image or its
                feature list (always detached).

        Returns:
            Tensor: Weighted scalar loss.
        """
        pred_feats = self._as_feats(pred, 'pred')
        if isinstance(target, Tensor):
            with torch.no_grad():
                target_feats = self.extract(target)
        else:
            target_feats = self._as_feats(target, 'target')
        total = 0.
        for name, fp, ft in zip(self.layers, pred_feats, target_feats):
            ft = repeat_to_batch(ft.detach(), fp.size(0), f'target[{name}]')
            if fp.shape != ft.shape:
                raise ValueError(f'SPNPerceptualLoss {name}: pred features '
                                 f'{tuple(fp.shape)} vs target '
                                 f'{tuple(ft.shape)}')
            total = total + self.layer_weights[name] * F.l1_loss(fp, ft)
        return self.loss_weight * total


@MODELS.register_module()
class PerceptualDiversityLoss(_VGGLossMixin):
    """Perceptual diversity (mode-seeking) loss of SPN (Eq. 14), in the hole.

    For two samples ``I1``, ``I2`` of the same input and each VGG layer
    ``l`` (relu1_1..relu5_1), with ``M_l`` the mask nearest-resized to the
    layer and ``d_l = mean(|phi_l(I1) * M_l - phi_l(I2) * M_l|)`` (mean over
    **B*C_l*H_l*W_l**):

    * ``form='paper'`` (Eq. 14, default):
      ``1/L * sum_l 1 / (d_l + eps)`` (the paper's ``||.||_1`` read as the
      element mean, like its other L1 terms; no mask-area normalisation, so
      the value grows when holes are small).
    * ``form='official'`` (released code):
      ``1 / (S + eps)`` with ``S = sum_l d_l / mean(M_l)`` (``mean(M_l)``
      over B*1*H_l*W_l; clamped to 1e-8 when there is no hole).

    With more than two samples the value is averaged over all sample pairs.
    The result is multiplied by ``loss_weight`` (official/paper: 1).
    Expected input range: [0, 1], like :class:`SPNPerceptualLoss`.

    Args:
        loss_weight (float): Weight. Default: 1.0.
        form (str): ``'paper'`` or ``'official'``. Default: ``'paper'``.
        eps (float): Epsilon of Eq. 14. Default: 1e-5.
        layers (Sequence[str]): VGG layers. Default: relu1_1..relu5_1.
        vgg_path, allow_random, norm_img, input_norm: As in
            :class:`SPNPerceptualLoss` (the loss's own VGG; None: feature
            lists only).
    """

    _FORMS = ('paper', 'official')

    def __init__(self,
                 loss_weight: float = 1.0,
                 form: str = 'paper',
                 eps: float = 1e-5,
                 layers: Sequence[str] = SPN_VGG_LAYERS,
                 vgg_path: Optional[str] = None,
                 allow_random: bool = False,
                 norm_img: bool = False,
                 input_norm: bool = False) -> None:
        if form not in self._FORMS:
            raise ValueError(f'PerceptualDiversityLoss: form must be one of '
                             f'{self._FORMS}, got {form!r}')
        super().__init__(
            layers=layers,
            vgg_path=vgg_path,
            allow_random=allow_random,
            norm_img=norm_img,
            input_norm=input_norm)
        self.loss_weight = float(loss_weight)
        self.form = form
        self.eps = float(eps)

    def _split_samples(self, x: Union[Tensor, FeatList],
                       y: Optional[Union[Tensor, FeatList]], mask: Tensor,
                       num_samples: Optional[int]) -> List[FeatList]:
        if y is not None:
            if num_samples not in (None, 2):
                raise ValueError('num_samples must be None or 2 when two '
                                 'inputs are given')
            return [self._as_feats(x, 'x'), self._as_feats(y, 'y')]
        feats = self._as_feats(x, 'x')
        total = feats[0].size(0)
        if num_samples is None:
            if mask.size(0) == total:
                raise ValueError(
                    'PerceptualDiversityLoss needs >= 2 samples of each '
                    f'input, but x and mask both have batch {total}: this '
                    'is one sample per input, or K is ambiguous - pass '
                    'num_samples=K (x stacked [s1; s2; ...]), a (B, 1, H, W) '
                    'mask, or two tensors x, y.')
            num_samples = total // max(mask.size(0), 1)
        if num_samples < 2 or total % num_samples != 0:
            raise ValueError(
                'PerceptualDiversityLoss needs >= 2 samples of each input: '
                f'got batch {total} with num_samples={num_samples}; pass '
                '(K*B, 3, H, W) stacked [s1; s2; ...] with K >= 2, or two '
                'tensors.')
        return [
            list(chunks)
            for chunks in zip(*[f.chunk(num_samples, dim=0) for f in feats])
        ]

    def forward(self,
                x: Union[Tensor, FeatList],
                y: Optional[Union[Tensor, FeatList]] = None,
                mask: Optional[Tensor] = None,
                num_samples: Optional[int] = None) -> Tensor:
        """Compute the loss.

        Args:
            x (Tensor | list[Tensor]): Either the first sample (B, 3, H, W)
                (with ``y`` the second), or all samples (K*B, 3, H, W)
                stacked ``[s1; s2; ...]`` (``y=None``); or the corresponding
                VGG feature list(s) from :meth:`extract`.
            y (Tensor | list[Tensor], optional): Second sample. Default:
                None.
            mask (Tensor): (B or K*B, 1, H, W), 1 = hole (the samples of one
                input share it; the first B items are used).
            num_samples (int, optional): K when ``y`` is None; inferred from
                the mask batch if omitted. Default: None.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if mask is None:
            raise ValueError('PerceptualDiversityLoss: mask is required '
                             '(the loss is computed inside the hole).')
        check_mask(mask)
        samples = self._split_samples(x, y, mask, num_samples)
        batch = samples[0][0].size(0)
        if mask.size(0) != batch:
            if mask.size(0) % batch != 0:
                raise ValueError(f'mask batch {mask.size(0)} does not match '
                                 f'the per-sample batch {batch}')
            mask = mask[:batch]
        masks = [
            resize_mask(mask, f.shape[-2:]).to(f.dtype) for f in samples[0]
        ]
        pair_losses = []
        for a, b in itertools.combinations(range(len(samples)), 2):
            dists, areas = [], []
            for lvl, (fa, fb,
                      m) in enumerate(zip(samples[a], samples[b], masks)):
                if fa.shape != fb.shape:
                    raise ValueError(f'layer {self.layers[lvl]}: sample '
                                     f'features {tuple(fa.shape)} vs '
                                     f'{tuple(fb.shape)}')
                dists.append(torch.mean(torch.abs(fa * m - fb * m)))
                areas.append(m.mean().clamp_min(1e-8))
            if self.form == 'paper':
                inv = [1. / (d + self.eps) for d in dists]
                pair_losses.append(torch.stack(inv).mean())
            else:
                s = torch.stack([d / ar for d, ar in zip(dists, areas)]).sum()
                pair_losses.append(1. / (s + self.eps))
        return self.loss_weight * torch.stack(pair_losses).mean()
