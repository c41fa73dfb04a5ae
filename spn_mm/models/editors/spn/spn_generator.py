"""SPNGenerator: the whole SPN network (paper Fig. 2), one public forward."""
import copy
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor
from torch.distributions import Normal

from spn_mm.registry import MODELS
from .input_convention import learner_view, to_official
from .row_tiling import DEFAULT_TILE_PIXELS, RowSource, repeat_rows
from .spn_blocks import SPNSPADE

SeedType = Optional[Union[int, Sequence[int]]]


@dataclass
class SPNFeatures:
    """Everything one :meth:`SPNGenerator.forward_features` computes.

    K samples are stacked on the batch as ``[all inputs s1; ...; all
    inputs sK]`` (K = 1 for the deterministic model).

    Attributes:
        out (Tensor): (K*B, 3, H, W) raw prediction in [-1, 1].
        out01 (Tensor): The same in the official [0, 1] range.
        priors (list[Tensor]): Prior pyramid S^l fine -> coarse (K*B each).
        distill (list[Tensor]): Distillation-head outputs fine -> coarse
            (empty with ``low_memory=True``).
        dist (Normal, optional): q(z | S_enc^L), batch B (probabilistic).
        prior_enc (Tensor): The learner's fused features S_enc^L, batch B.
        feat_enc (Tensor): F_enc^L, image features before the SPADE blocks,
            batch B.
        feat_dec (Tensor): F_dec^L, after them, batch K*B.
        num_samples (int): K.
    """
    out: Tensor
    out01: Tensor
    priors: List[Tensor]
    distill: List[Tensor]
    dist: Optional[Normal]
    prior_enc: Tensor
    feat_enc: Tensor
    feat_dec: Tensor
    num_samples: int

    def as_dict(self) -> Dict:
        """Shallow ``{field: value}`` (tensors are not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@MODELS.register_module()
class SPNGenerator(BaseModule):
    """SPN generator: semantic prior learner + image generator.

    Zhang et al., "Fully Context-Aware Image Inpainting with a Learned
    Semantic Pyramid" (Pattern Recognition 2023), Fig. 2.

    Composes a :class:`SemanticPriorLearner`, an optional
    :class:`VariationalPrior` (probabilistic SPN) plugged between the
    learner's fused features S_enc^L and its residual blocks, and a
    :class:`SPADEGenerator`.

    Value conventions (``docs/interfaces.md``): inputs are mmagic's
    ``masked_img`` in [-1, 1] (holes 0) and ``mask`` (B, 1, H, W), 1 = hole.
    :meth:`prepare_inputs` converts them to the official convention
    (:mod:`.input_convention`: [0, 1], holes 1.0, a nearest 2x view for the
    prior learner). The ``(tanh + 1) / 2`` output is returned both as
    ``out01`` and as ``out = 2 * out01 - 1`` in [-1, 1] (raw, not
    composited).

    H and W must be multiples of :attr:`size_divisor` (4; 32 with the
    official variational prior).

    Every forward goes through :meth:`forward_features`; :meth:`forward`
    dispatches ``mode`` so that DDP wrappers see every call.

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

    @property
    def distill_channels(self) -> List[int]:
        """Widths of the learner's distillation heads, fine -> coarse (the
        ``distill`` outputs; :class:`PriorDistillation` checks them against
        the teacher taps)."""
        return list(self.prior_learner.head_channels)

    @property
    def size_divisor(self) -> int:
        """Image sides must be multiples of this (4, or ``4 * 2**n`` with a
        variational prior of ``n`` down-samplings: official 32)."""
        if self.variational is None:
            return 4
        return 4 * 2**int(self.variational.num_downsamples)

    def fuse(self) -> 'SPNGenerator':
        """Exact inference speed-ups (eval mode), state_dict unchanged:
        every SPADE computes gamma and beta with one convolution
        (:meth:`SPNSPADE.fuse`). Call after loading the weights.

        Returns:
            SPNGenerator: ``self``.
        """
        for module in self.modules():
            if isinstance(module, SPNSPADE):
                module.fuse()
        return self

    # ------------------------------------------------------------------ #
    # the forward
    # ------------------------------------------------------------------ #
    def prepare_inputs(self, masked_img: Tensor,
                       mask: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Check mmagic inputs and convert them to the official convention.

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1] (holes ignored).
            mask (Tensor): (B, 1, H, W), 1 = hole.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``x01`` (B,3,H,W) in [0,1] with
            holes 1.0, ``mask`` (B,1,H,W) in the image dtype, and the
            learner input (B,4,2H,2W).
        """
        if masked_img.dim() != 4 or masked_img.shape[1] != 3:
            raise ValueError('SPNGenerator: expected `masked_img` of shape '
                             f'(B, 3, H, W), got {tuple(masked_img.shape)}')
        b, _, h, w = masked_img.shape
        if tuple(mask.shape) != (b, 1, h, w):
            raise ValueError(f'SPNGenerator: expected `mask` of shape '
                             f'({b}, 1, {h}, {w}) (1 = hole), got '
                             f'{tuple(mask.shape)}')
        step = self.size_divisor
        if h % step or w % step:
            raise ValueError(
                f'SPNGenerator: image height and width must be multiples of '
                f'{step}, got {h}x{w}')
        x01, mask = to_official(masked_img, mask)
        return x01, mask, learner_view(x01, mask)

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

    def forward_features(self,
                         masked_img: Tensor,
                         mask: Tensor,
                         *,
                         num_samples: int = 1,
                         seed: SeedType = None,
                         sample: str = 'random',
                         noise: Optional[Tensor] = None,
                         low_memory: bool = False,
                         tile_pixels: int = DEFAULT_TILE_PIXELS
                         ) -> SPNFeatures:
        """The whole network: image encoder, prior learner (+ variational
        prior), SPADE decoder (no ``no_grad`` inside unless ``low_memory``;
        the caller decides).

        Args:
            masked_img (Tensor): (B, 3, H, W) in [-1, 1], holes 0.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            num_samples (int): K samples per input (probabilistic; the
                deterministic model computes one). Default: 1.
            seed (int | Sequence[int], optional): An int ``s`` seeds image
                ``i`` with ``s + i``; a sequence gives one seed per image.
                Each image draws its noise from its own ``torch.Generator``,
                so its result does not depend on the batch it is in. None
                uses the global RNG. Default: None.
            sample (str): ``'random'`` or ``'mean'`` (z = mu). Default:
                ``'random'``.
            noise (Tensor, optional): Explicit standard-normal noise (K*B,
                latent, h', w'), ``z = mu + noise * sigma`` (ONNX export).
            low_memory (bool): Exact low-memory inference: every stage at
                resolution >= H/2 runs on row stripes of about
                ``tile_pixels`` pixels (whole-image normalisation statistics
                computed first by the instance-norm kernel, a few channels
                at a time), under ``torch.no_grad()``;
                the distillation heads are skipped (``distill`` is empty).
                Equal to the default path up to float32 rounding (<= 1e-5
                in fp32; it also runs under bf16 autocast, within bf16
                rounding); 2.1x less peak RSS at 1024 (benchmarks/README.md).
                Needs ``fusion='spade'``. Default: False (the
                training/reference path).
            tile_pixels (int): Pixels per stripe with ``low_memory``.
                Default: ``DEFAULT_TILE_PIXELS`` (2**16, 64 rows at 1024
                wide).

        Returns:
            SPNFeatures: See its attributes.
        """
        if low_memory:
            if not isinstance(tile_pixels, int) or tile_pixels < 1:
                raise ValueError('SPNGenerator: `tile_pixels` must be an int '
                                 f'>= 1, got {tile_pixels!r}')
            with torch.no_grad():
                return self._features(masked_img, mask, num_samples, seed,
                                      sample, noise, tile_pixels)
        return self._features(masked_img, mask, num_samples, seed, sample,
                              noise, None)

    def _features(self, masked_img: Tensor, mask: Tensor, num_samples: int,
                  seed: SeedType, sample: str, noise: Optional[Tensor],
                  tile: Optional[int]) -> SPNFeatures:
        """:meth:`forward_features`; ``tile`` None = the default path."""
        if sample not in ('random', 'mean'):
            raise ValueError("SPNGenerator: `sample` must be 'random' or "
                             f"'mean', got {sample!r}")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError('SPNGenerator: `num_samples` must be an int '
                             f'>= 1, got {num_samples!r}')
        x01, mask, learner_in = self.prepare_inputs(masked_img, mask)
        feat_enc = self.image_generator.encode(x01, mask, tile_pixels=tile)
        fused, skips = self.prior_learner.encode(learner_in, tile_pixels=tile)
        del learner_in
        dist = None
        extra = None
        k = 1
        if self.variational is not None:
            k = num_samples
            extra, dist = self.variational(
                fused,
                num_samples=k,
                seeds=self._seeds(seed, masked_img.shape[0]),
                mode=sample,
                noise=noise)
            fused_k = fused.repeat(k, 1, 1, 1)
            skips = [
                repeat_rows(s, k) if isinstance(s, RowSource) else s.repeat(
                    k, 1, 1, 1) for s in skips
            ]
            feat_enc_k = feat_enc.repeat(k, 1, 1, 1)
        else:
            if noise is not None:
                raise ValueError('SPNGenerator: `noise` needs the '
                                 'variational prior (probabilistic model)')
            fused_k, feat_enc_k = fused, feat_enc
        priors, distill = self.prior_learner.decode(
            fused_k, skips, extra, tile_pixels=tile)
        del skips
        dec = self.image_generator.decode(
            feat_enc_k, priors, tile_pixels=tile)
        return SPNFeatures(
            out=2 * dec['out'] - 1,
            out01=dec['out'],
            priors=priors,
            distill=distill,
            dist=dist,
            prior_enc=fused,
            feat_enc=feat_enc,
            feat_dec=dec['feat_dec'],
            num_samples=k)

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

        Why not mmengine's ``'loss'``/``'predict'``: those are the modes of a
        whole model (``BaseModel.forward``: losses, or data samples). The
        generator returns neither -- ``'train'`` gives the tensors the
        inpaintor's losses need (``out01``, ``distill``, ``dist``), ``'test'``
        the image(s) -- and ``'tensor'`` keeps mmengine's and mmagic's
        meaning (a raw tensor from the packed ``(B, 4, H, W)`` input).

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
        res = self.forward_features(masked_img, mask, num_samples=num_samples)
        return dict(
            out=res.out,
            out01=res.out01,
            priors=res.priors,
            distill=res.distill,
            dist=res.dist)

    def forward_test(self,
                     masked_img: Tensor,
                     mask: Tensor,
                     num_samples: int = 1,
                     seed: SeedType = None,
                     sample: str = 'random',
                     low_memory: bool = False,
                     tile_pixels: int = DEFAULT_TILE_PIXELS) -> Tensor:
        """Inference forward (no ``no_grad`` inside unless ``low_memory``;
        the caller decides).

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
            low_memory (bool): Exact low-memory inference (row stripes,
                no autograd); see :meth:`forward_features`. Default: False.
            tile_pixels (int): Pixels per stripe with ``low_memory``.
                Default: ``DEFAULT_TILE_PIXELS``.

        Returns:
            Tensor: (B, 3, H, W) if K == 1, else (K, B, 3, H, W), in [-1, 1].
        """
        res = self.forward_features(
            masked_img,
            mask,
            num_samples=num_samples,
            seed=seed,
            sample=sample,
            low_memory=low_memory,
            tile_pixels=tile_pixels)
        out = res.out
        b = masked_img.shape[0]
        if num_samples == 1:
            return out
        if res.num_samples == 1:
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
        res = self.forward_features(
            masked_img, mask, num_samples=1, seed=seed, sample=sample)
        return dict(
            priors=res.priors,
            distill=res.distill,
            prior_enc=res.prior_enc,
            feat_enc=res.feat_enc,
            feat_dec=res.feat_dec,
            out=res.out,
            dist=res.dist)
