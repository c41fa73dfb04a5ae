# Copyright (c) OpenMMLab. All rights reserved.
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from spn_mm.registry import MODELS

SeedType = Optional[Union[int, Sequence[int]]]


@MODELS.register_module()
class SPNGenerator(BaseModule):
    """SPN generator: semantic prior learner + image generator.

    Zhang et al., "Semantic Pyramid Network for Image Inpainting with
    Multi-scale Semantic Priors" (Pattern Recognition 2023), Fig. 2.

    Composes a :class:`SemanticPriorLearner`, an optional
    :class:`VariationalPrior` (probabilistic SPN) plugged between the
    learner's fused features S_enc^L and its residual blocks, and a
    :class:`SPADEGenerator`.

    Value conventions (``docs/interfaces.md``): inputs are mmagic's
    ``masked_img`` in [-1, 1] (holes 0) and ``mask`` (B, 1, H, W), 1 = hole.
    Internally the official [0, 1] convention is used:
    ``x01 = (masked_img + 1) / 2``, ``x01 = x01 * (1 - mask) + mask`` (holes
    1.0, so the output never depends on pixel values inside the hole), and
    the prior learner sees ``cat([x01, mask])`` nearest-up-sampled 2x. The
    generator's ``(tanh + 1) / 2`` output is returned as ``2 * out01 - 1`` in
    [-1, 1] (raw, not composited).

    H and W must be multiples of 4 (multiples of 32 with the official
    variational prior).

    Args:
        prior_learner (dict): Config of the prior learner. Its
            ``variational_channels`` is filled from the variational prior.
        image_generator (dict): Config of the image generator. Its
            ``prior_channels`` defaults to the learner's
            ``generator_prior_channels``.
        variational (dict, optional): Config of the variational prior; None
            gives the deterministic SPN. Default: None.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 prior_learner: dict,
                 image_generator: dict,
                 variational: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        parts = dict(
            prior_learner=prior_learner, image_generator=image_generator)
        for name, cfg in parts.items():
            if not isinstance(cfg, dict):
                raise TypeError(f'SPNGenerator: `{name}` must be a config '
                                f'dict, got {type(cfg).__name__}')
        if variational is not None and not isinstance(variational, dict):
            raise TypeError('SPNGenerator: `variational` must be a config '
                            f'dict or None, got {type(variational).__name__}')

        self.variational = None
        learner_cfg = copy.deepcopy(dict(prior_learner))
        if variational is not None:
            self.variational = MODELS.build(copy.deepcopy(dict(variational)))
            var_ch = self.variational.out_channels
            if learner_cfg.get('variational_channels', var_ch) != var_ch:
                raise ValueError(
                    'SPNGenerator: prior_learner.variational_channels '
                    f'({learner_cfg["variational_channels"]}) must equal '
                    f'variational.out_channels ({var_ch})')
            learner_cfg['variational_channels'] = var_ch
        self.prior_learner = MODELS.build(learner_cfg)
        learner_width = self.prior_learner.mid_channels
        if self.variational is not None and \
                self.variational.in_channels != learner_width:
            raise ValueError(
                'SPNGenerator: variational.in_channels '
                f'({self.variational.in_channels}) must equal the prior '
                f'learner width 4 * base_channels ({learner_width})')

        gen_cfg = copy.deepcopy(dict(image_generator))
        expected = list(self.prior_learner.generator_prior_channels)
        given = gen_cfg.setdefault('prior_channels', expected)
        if list(given) != expected:
            raise ValueError(
                'SPNGenerator: image_generator.prior_channels '
                f'{list(given)} does not match the prior learner, which '
                f'provides {expected} (fine -> coarse)')
        self.image_generator = MODELS.build(gen_cfg)

    @property
    def is_probabilistic(self) -> bool:
        """Whether the variational prior is used."""
        return self.variational is not None

    # ------------------------------------------------------------------ #
    # input handling
    # ------------------------------------------------------------------ #
    def _prepare(self, masked_img: Tensor,
                 mask: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Convert mmagic inputs to the official convention.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``x01`` (B,3,H,W) in [0,1] with
            holes 1.0, ``mask`` (B,1,H,W) float, and the learner input
            (B,4,2H,2W).
        """
        if masked_img.dim() != 4 or masked_img.shape[1] != 3:
            raise ValueError('SPNGenerator: expected `masked_img` of shape '
                             f'(B, 3, H, W), got {tuple(masked_img.shape)}')
        b, _, h, w = masked_img.shape
        if tuple(mask.shape) != (b, 1, h, w):
            raise ValueError(f'SPNGenerator: expected `mask` of shape '
                             f'({b}, 1, {h}, {w}) (1 = hole), got '
                             f'{tuple(mask.shape)}')
        step = 4
        if self.variational is not None:
            step = 4 * 2**self.variational.num_downsamples
        if h % step or w % step:
            raise ValueError(
                f'SPNGenerator: image height and width must be multiples of '
                f'{step}, got {h}x{w}')
        mask = mask.to(masked_img.dtype)
        x01 = (masked_img + 1) / 2
        x01 = x01 * (1 - mask) + mask
        size2 = (2 * h, 2 * w)
        img2x = F.interpolate(x01, size=size2, mode='nearest')
        mask2x = F.interpolate(mask, size=size2, mode='nearest')
        learner_in = torch.cat([img2x, mask2x], dim=1)
        return x01, mask, learner_in

    @staticmethod
    def _seeds(seed: SeedType, batch: int) -> Optional[List[int]]:
        if seed is None:
            return None
        if isinstance(seed, int):
            return [seed + i for i in range(batch)]
        seeds = [int(s) for s in seed]
        if len(seeds) != batch:
            raise ValueError(
                f'SPNGenerator: `seed` must be an int or one seed per image '
                f'({batch}), got {len(seeds)} seeds')
        return seeds

    def _run(self,
             masked_img: Tensor,
             mask: Tensor,
             num_samples: int = 1,
             seed: SeedType = None,
             sample: str = 'random') -> Dict:
        """Full forward; see :meth:`extract_features` for the outputs."""
        if sample not in ('random', 'mean'):
            raise ValueError("SPNGenerator: `sample` must be 'random' or "
                             f"'mean', got {sample!r}")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError('SPNGenerator: `num_samples` must be an int '
                             f'>= 1, got {num_samples!r}')
        x01, mask, learner_in = self._prepare(masked_img, mask)
        feat_enc = self.image_generator.encode(x01, mask)
        fused, skips = self.prior_learner.encode(learner_in)
        dist = None
        extra = None
        k = 1
        if self.variational is not None:
            k = num_samples
            extra, dist = self.variational(
                fused,
                num_samples=k,
                seeds=self._seeds(seed, masked_img.shape[0]),
                mode=sample)
            fused_k = fused.repeat(k, 1, 1, 1)
            skips = [s.repeat(k, 1, 1, 1) for s in skips]
            feat_enc_k = feat_enc.repeat(k, 1, 1, 1)
        else:
            fused_k, feat_enc_k = fused, feat_enc
        priors, distill = self.prior_learner.decode(fused_k, skips, extra)
        dec = self.image_generator.decode(feat_enc_k, priors)
        return dict(
            out=2 * dec['out'] - 1,
            out01=dec['out'],
            priors=priors,
            distill=distill,
            dist=dist,
            num_samples=k,
            fused=fused,
            feat_enc=feat_enc,
            feat_dec=dec['feat_dec'])

    # ------------------------------------------------------------------ #
    # public API
    # ------------------------------------------------------------------ #
    def forward(self,
                x: Tensor,
                mask: Optional[Tensor] = None,
                mode: str = 'tensor',
                **kwargs) -> Union[Tensor, Dict]:
        """Dispatch on ``mode`` (so DDP wrappers see every call).

        * ``mode='tensor'`` (mmagic's ``OneStageInpaintor`` convention):
          ``x = cat([masked_img, mask], 1)`` (B, 4, H, W) -> (B, 3, H, W) in
          [-1, 1]; one random sample in the probabilistic mode.
        * ``mode='train'``: ``forward_train(x, mask, **kwargs)``.
        * ``mode='test'``: ``forward_test(x, mask, **kwargs)``.

        Args:
            x (Tensor): See above (masked image in [-1, 1], holes 0).
            mask (Tensor, optional): (B, 1, H, W), 1 = hole (train/test).
            mode (str): ``'tensor'``, ``'train'`` or ``'test'``.

        Returns:
            Tensor | dict: See the modes.
        """
        if mode == 'train':
            return self.forward_train(x, mask, **kwargs)
        if mode == 'test':
            return self.forward_test(x, mask, **kwargs)
        if mode != 'tensor':
            raise ValueError("SPNGenerator.forward: mode must be 'tensor', "
                             f"'train' or 'test', got {mode!r}")
        if x.dim() != 4 or x.shape[1] != 4:
            raise ValueError('SPNGenerator.forward: expected x = '
                             'cat([masked_img, mask]) of shape (B, 4, H, W), '
                             f'got {tuple(x.shape)}')
        return self.forward_test(x[:, :3], x[:, 3:4])

    def forward_train(self,
                      masked_img: Tensor,
                      mask: Tensor,
                      num_samples: Optional[int] = None) -> Dict:
        """Training forward.

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1], holes 0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            num_samples (int, optional): K samples per input (probabilistic
                only); None uses ``variational.num_samples`` (official 2),
                and 1 for the deterministic model.

        Returns:
            dict: ``out`` (B*K, 3, H, W) in [-1, 1] and ``out01``, the
            same prediction in the official [0, 1] range; ``priors`` (pre-head
            prior features) and ``distill`` (head outputs), lists fine ->
            coarse with batch B*K; ``dist`` the ``Normal`` q (batch B) or
            None. Samples are stacked ``[all inputs sample 1; ...]``.
        """
        if self.variational is None:
            if num_samples not in (None, 1):
                raise ValueError(
                    'SPNGenerator.forward_train: num_samples > 1 needs the '
                    f'variational prior (got num_samples={num_samples} for '
                    'a deterministic generator)')
            num_samples = 1
        elif num_samples is None:
            num_samples = self.variational.num_samples
        res = self._run(masked_img, mask, num_samples=num_samples)
        return dict(
            out=res['out'],
            out01=res['out01'],
            priors=res['priors'],
            distill=res['distill'],
            dist=res['dist'])

    def forward_test(self,
                     masked_img: Tensor,
                     mask: Tensor,
                     num_samples: int = 1,
                     seed: SeedType = None,
                     sample: str = 'random') -> Tensor:
        """Inference forward (no ``no_grad`` inside; the caller decides).

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1], holes 0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            num_samples (int): K samples per input. The deterministic model
                returns K identical copies. Default: 1.
            seed (int | Sequence[int], optional): An int ``s`` seeds image
                ``i`` with ``s + i``; a sequence gives one seed per image.
                Each image draws its noise from its own ``torch.Generator``,
                so its result does not depend on the batch it is in. None
                uses the global RNG. Default: None.
            sample (str): ``'random'`` or ``'mean'`` (z = mu,
                deterministic). Default: ``'random'``.

        Returns:
            Tensor: (B, 3, H, W) if K == 1, else (K, B, 3, H, W), in [-1, 1].
        """
        res = self._run(
            masked_img,
            mask,
            num_samples=num_samples,
            seed=seed,
            sample=sample)
        out = res['out']
        b = masked_img.shape[0]
        if num_samples == 1:
            return out
        if res['num_samples'] == 1:
            return out.unsqueeze(0).expand(num_samples, -1, -1, -1,
                                           -1).contiguous()
        return out.view(num_samples, b, *out.shape[1:])

    def extract_features(self,
                         masked_img: Tensor,
                         mask: Tensor,
                         seed: SeedType = None,
                         sample: str = 'random') -> Dict:
        """Intermediate features for visualisation (one sample).

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1], holes 0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            seed (int | Sequence[int], optional): See :meth:`forward_test`.
            sample (str): ``'random'`` or ``'mean'``.

        Returns:
            dict: ``priors`` (prior pyramid S^l, fine -> coarse, e.g.
            (B,64,H,W), (B,128,H/2,W/2), (B,256,H/4,W/4)), ``distill`` (head
            outputs), ``prior_enc`` (the learner's fused features S_enc^L,
            (B,256,H/4,W/4)), ``feat_enc`` (F_enc^L, image features before
            the SPADE middle blocks), ``feat_dec`` (F_dec^L, after them),
            ``out`` (B,3,H,W) in [-1,1] and ``dist`` (Normal or None).
        """
        res = self._run(
            masked_img, mask, num_samples=1, seed=seed, sample=sample)
        return dict(
            priors=res['priors'],
            distill=res['distill'],
            prior_enc=res['fused'],
            feat_enc=res['feat_enc'],
            feat_dec=res['feat_dec'],
            out=res['out'],
            dist=res['dist'])
