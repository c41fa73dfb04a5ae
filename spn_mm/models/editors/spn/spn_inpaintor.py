"""SPNInpaintor: SPN training/inference inside mmagic's inpainting API."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmagic.models.base_models import OneStageInpaintor
from mmagic.models.utils import set_requires_grad
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict
from torch import Tensor

from spn_mm.registry import MODELS
from .precision import (as_memory_format, check_precision,
                        precision_context, to_memory_format)
from .prior_distillation import PriorDistillation, build_prior_distillation


@MODELS.register_module()
class SPNInpaintor(OneStageInpaintor):
    """Semantic Pyramid Network inpaintor (deterministic and probabilistic).

    Zhang et al., "Fully Context-Aware Image Inpainting with a Learned
    Semantic Pyramid", Pattern Recognition 2023, Sec. 3.3.

    One training iteration (the authors' order; configs/README.md,
    "Official code vs paper text"):

    1. teacher targets from the **un-masked** image (no grad; only while the
       prior loss is active);
    2. generator forward, K samples per input in the probabilistic mode
       (stacked on the batch: ``[all inputs s1; all inputs s2; ...]``);
    3. discriminator step on the real image and the detached prediction,
       ``loss_d = 0.5 * (L(D(real), 1) + L(D(fake), 0))``;
    4. generator step: adversarial (with the just-updated D), D feature
       matching, mask-weighted reconstruction, prior distillation, KL,
       perceptual and diversity losses — each built from config, each logged
       under its own name.

    Steps 1-4 run inside their optim wrapper's ``optim_context`` (step 1
    in the generator's) and update through ``update_params``, so gradient
    accumulation and ``--amp`` work, with the teacher and the VGG under the
    same autocast as the generator.

    Value conventions: mmagic's data preprocessor hands the model the masked
    image in [-1, 1] and ``mask`` (1 = hole); ``gt_img`` is in [-1, 1]. The
    generator converts its input to the official [0, 1]/holes-1.0
    convention itself and also returns its prediction in [0, 1]
    (``out01``). :meth:`train_step` converts the ground truth **once**
    (:meth:`to_unit_range`) and every SPN loss receives [0, 1] images, as
    in the authors' code. The discriminator sees [0, 1] images
    (``disc_input_range=(0, 1)``, SPN's own discriminators) or [-1, 1]
    ones (``(-1, 1)``, mmagic's discriminators), see :meth:`disc_view`.
    The teacher receives the batch's ``teacher_img`` (the original photo
    resized by ``SPNTeacherView``) when the pipeline packs one, else it
    up-samples ``gt_img``.

    Args:
        data_preprocessor (dict): mmagic ``DataPreprocessor`` config.
        encdec (dict): Generator config, usually ``SPNGenerator``.
        disc (dict, optional): Discriminator config (SPN's or mmagic's). SPN
            discriminators return ``(logits, feats)``; plain tensors are
            accepted too (then feature matching is unavailable).
        teacher (dict, optional): Frozen pretext teacher (training only);
            with ``loss_prior`` it builds :attr:`prior_distill`.
        loss_gan (dict, optional): mmagic ``GANLoss`` (``vanilla`` = the
            official non-saturating loss on logits, ``hinge`` for prob).
        loss_rec (dict, optional): Mask-weighted L1 on the raw output.
        loss_prior (dict, optional): ``PriorDistillationLoss`` (with
            ``teacher``).
        loss_kl (dict, optional): ``GaussianKLLoss`` (probabilistic).
        loss_percep (dict, optional): ``SPNPerceptualLoss`` on the raw output.
        loss_diversity (dict, optional): ``PerceptualDiversityLoss``.
        loss_fm (dict, optional): ``DiscFeatureMatchingLoss``.
        vgg (dict, optional): ``SPNVGGFeatures`` (``vgg_path``, ...): the
            one VGG of ``loss_percep`` and ``loss_diversity``, run once per
            step over the predictions for both (and once over the ground
            truth for the perceptual loss). Required by, and only built
            with, those losses; they are built without VGG keys.
        disc_input_range (Sequence[float]): Value range of the images the
            discriminator sees: ``(0, 1)`` (official, SPN's discriminators)
            or ``(-1, 1)`` (mmagic's discriminators). Default: (0, 1).
        train_cfg (dict, optional): ``disc_step`` (D updates per G update,
            default 1),
            ``disc_input`` (``'raw'`` official, or ``'composite'``). The
            prior-loss cut is :class:`~spn_mm.engine.hooks.
            PriorLossScheduleHook`'s job.
        test_cfg (dict, optional): ``num_samples`` (K outputs per input at
            test time, default 1), ``seed`` (int: image i of a batch uses
            ``seed + global index`` when known, else ``seed + i``; None: the
            global RNG), ``sample`` (``'random'`` or ``'mean'``),
            ``precision`` (``'fp32'``, ``'bf16'``, ``'fp16'``: CUDA) and
            ``channels_last`` (None: the default of
            :func:`~spn_mm.models.editors.spn.precision.check_precision`).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 data_preprocessor: Union[dict, Config],
                 encdec: dict,
                 disc: Optional[dict] = None,
                 teacher: Optional[dict] = None,
                 loss_gan: Optional[dict] = None,
                 loss_rec: Optional[dict] = None,
                 loss_prior: Optional[dict] = None,
                 loss_kl: Optional[dict] = None,
                 loss_percep: Optional[dict] = None,
                 loss_diversity: Optional[dict] = None,
                 loss_fm: Optional[dict] = None,
                 vgg: Optional[dict] = None,
                 disc_input_range: Sequence[float] = (0., 1.),
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        # OneStageInpaintor stores train_cfg/test_cfg as given; SPN reads
        # them with .get(), so None becomes an empty dict here
        super().__init__(
            data_preprocessor=data_preprocessor,
            encdec=encdec,
            disc=disc,
            loss_gan=loss_gan,
            train_cfg=dict(train_cfg or {}),
            test_cfg=dict(test_cfg or {}),
            init_cfg=init_cfg)
        #: Teacher + prior loss (:class:`PriorDistillation`), or None.
        self.prior_distill = build_prior_distillation(
            teacher, loss_prior, self.generator, 'SPNInpaintor')
        self.loss_rec = self._build_optional(loss_rec)
        self.loss_kl = self._build_optional(loss_kl)
        self.loss_percep = self._build_optional(loss_percep)
        self.loss_diversity = self._build_optional(loss_diversity)
        self.loss_fm = self._build_optional(loss_fm)
        self.vgg = self._build_vgg(vgg)
        if self.loss_fm is not None and not self.with_gan:
            raise ValueError('SPNInpaintor: loss_fm needs `disc` and '
                             '`loss_gan`')
        if 'num_samples' in self.train_cfg:
            raise ValueError(
                'SPNInpaintor: train_cfg.num_samples is not used; the number '
                'of training samples is model.encdec.variational.num_samples')
        variational = getattr(self.generator, 'variational', None)
        self._num_train_samples = (1 if variational is None else int(
            variational.num_samples))
        disc_input_range = tuple(float(v) for v in disc_input_range)
        if disc_input_range not in self._DISC_RANGES:
            raise ValueError(
                'SPNInpaintor: disc_input_range must be (0, 1) (SPN '
                "discriminators) or (-1, 1) (mmagic's), got "
                f'{disc_input_range}')
        self.disc_input_range = disc_input_range
        if 'prior_loss_until_iter' in self.train_cfg:
            raise ValueError(
                'SPNInpaintor: train_cfg.prior_loss_until_iter was replaced '
                "by the hook default_hooks.prior_loss=dict(type="
                "'PriorLossScheduleHook', until_iter=N) (or until_epoch)")
        disc_input = self.train_cfg.get('disc_input', 'raw')
        if disc_input not in ('raw', 'composite'):
            raise ValueError("SPNInpaintor: train_cfg.disc_input must be "
                             f"'raw' or 'composite', got {disc_input!r}")

    _DISC_RANGES = ((0., 1.), (-1., 1.))

    # ------------------------------------------------------------------ #
    # construction helpers
    # ------------------------------------------------------------------ #
    @staticmethod
    def _build_optional(cfg: Optional[dict]) -> Optional[torch.nn.Module]:
        return MODELS.build(cfg) if cfg is not None else None

    def _build_vgg(self, vgg: Optional[dict]) -> Optional[torch.nn.Module]:
        """The VGG of the VGG losses (None without them)."""
        named = {'loss_percep': self.loss_percep,
                 'loss_diversity': self.loss_diversity}
        named = {k: v for k, v in named.items() if v is not None}
        if not named:
            return None
        for key, loss in named.items():
            if loss.vgg is not None:
                raise ValueError(
                    f'SPNInpaintor: model.{key} must not set vgg_path/'
                    'allow_random/norm_img/input_norm; they moved to '
                    "model.vgg=dict(type='SPNVGGFeatures', vgg_path=...), "
                    'the one VGG of both VGG losses')
        if vgg is None:
            raise ValueError(
                f'SPNInpaintor: {" and ".join(named)} need model.vgg='
                "dict(type='SPNVGGFeatures', vgg_path=...)")
        # every layer either loss reads, in first-use order
        self._vgg_layers = list(
            dict.fromkeys(name for loss in named.values()
                          for name in loss.layers))
        return MODELS.build(vgg)

    @property
    def teacher(self) -> Optional[torch.nn.Module]:
        """The frozen teacher (``prior_distill.teacher``), or None."""
        if self.prior_distill is None:
            return None
        return self.prior_distill.teacher

    @property
    def num_train_samples(self) -> int:
        """K samples per input in training: the generator's
        ``variational.num_samples`` (official 2), 1 for the deterministic
        model. It is set in one place, ``model.encdec.variational``."""
        return self._num_train_samples

    # ------------------------------------------------------------------ #
    # training
    # ------------------------------------------------------------------ #
    @staticmethod
    def to_unit_range(img: Tensor) -> Tensor:
        """mmagic's [-1, 1] image -> the official [0, 1] range."""
        return (img + 1.) / 2.

    def disc_view(self, img01: Tensor) -> Tensor:
        """What the discriminator sees of a [0, 1] image (its input range,
        ``disc_input_range``)."""
        if self.disc_input_range == (0., 1.):
            return img01
        return img01 * 2. - 1.

    def _disc(self, img: Tensor) -> Tuple[Tensor, Optional[List[Tensor]]]:
        out = self.disc(img)
        if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(
                out[1], (tuple, list)):
            return out[0], list(out[1])
        return out, None

    def _disc_step(self, real: Tensor, fake: Tensor,
                   optim_wrapper: OptimWrapperDict) -> Tuple[Dict, Optional[
                       List[Tensor]]]:
        """One discriminator update; returns logs and real features.

        ``real`` and ``fake`` are already in the discriminator's range. D is
        called on the real image, then on the detached fake (two calls, as
        official: spectral norm advances once per call).
        """
        set_requires_grad(self.disc, True)
        wrapper = optim_wrapper['disc']
        with wrapper.optim_context(self.disc):
            real_logits, real_feats = self._disc(real)
            fake_logits, _ = self._disc(fake.detach())
            loss_real = self.loss_gan(real_logits, True, is_disc=True)
            loss_fake = self.loss_gan(fake_logits, False, is_disc=True)
            loss_d = 0.5 * (loss_real + loss_fake)
        wrapper.update_params(loss_d)
        logs = dict(
            loss_d=loss_d.detach(),
            loss_d_real=loss_real.detach(),
            loss_d_fake=loss_fake.detach())
        if real_feats is not None:
            real_feats = [f.detach() for f in real_feats]
        return logs, real_feats

    def generator_loss(self, res: Dict, gt: Tensor, mask: Tensor,
                       targets: Optional[List[Tensor]],
                       real_feats: Optional[List[Tensor]],
                       disc_fake: Optional[Tensor]) -> Dict[str, Tensor]:
        """All generator-side losses, keyed by their log names.

        Replaces ``OneStageInpaintor.generator_loss`` (whose only caller,
        ``OneStageInpaintor.train_step``, SPN overrides) with SPN's terms.

        Args:
            res (dict): Output of ``generator.forward_train``; its ``out01``
                (K*B, 3, H, W) in [0, 1] is the prediction the losses see.
            gt (Tensor): (B, 3, H, W) ground truth in **[0, 1]**.
            mask (Tensor): (B, 1, H, W), 1 = hole.
            targets (list[Tensor], optional): Teacher targets (batch B).
            real_feats (list[Tensor], optional): D features of the real
                image from the D step (detached).
            disc_fake (Tensor, optional): What D sees of the prediction
                (already in its input range).

        Returns:
            dict[str, Tensor]: Weighted scalar losses.
        """
        losses = {}
        fake = res['out01']
        k = self.num_train_samples
        if disc_fake is not None:
            set_requires_grad(self.disc, False)
            fake_logits, fake_feats = self._disc(disc_fake)
            losses['loss_g_adv'] = self.loss_gan(
                fake_logits, True, is_disc=False)
            if self.loss_fm is not None:
                if fake_feats is None or real_feats is None:
                    raise RuntimeError(
                        'SPNInpaintor: loss_fm needs a discriminator that '
                        'returns (logits, feats)')
                losses['loss_fm'] = self.loss_fm(fake_feats, real_feats)
        if self.loss_rec is not None:
            losses['loss_rec'] = self.loss_rec(fake, gt, mask)
        if targets is not None:
            losses['loss_prior'] = self.prior_distill(
                res['distill'], targets, mask)
        if self.loss_kl is not None and res.get('dist') is not None:
            losses['loss_kl'] = self.loss_kl(res['dist'])
        if self.vgg is not None:
            # one VGG pass over the K*B predictions serves both losses
            feats = dict(
                zip(self._vgg_layers, self.vgg(fake, self._vgg_layers)))
            if self.loss_percep is not None:
                layers = self.loss_percep.layers
                with torch.no_grad():
                    gt_feats = self.vgg(gt, layers)
                losses['loss_percep'] = self.loss_percep(
                    [feats[name] for name in layers], gt_feats)
            if self.loss_diversity is not None:
                losses['loss_div'] = self.loss_diversity(
                    [feats[name] for name in self.loss_diversity.layers],
                    mask=mask,
                    num_samples=k)
        return losses

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One SPN iteration (see the class docstring).

        Args:
            data (dict): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): Keys ``generator`` and, with a
                discriminator, ``disc``.

        Returns:
            dict[str, Tensor]: Scalars to log.
        """
        data = self.data_preprocessor(data, True)
        masked_img = data['inputs']
        data_samples = data['data_samples']
        gt = data_samples.gt_img
        mask = data_samples.mask.to(gt.dtype)
        k = self.num_train_samples
        log_vars = {}

        targets = None
        g_wrapper = optim_wrapper['generator']
        # the teacher shares the generator's autocast (mixed precision)
        with g_wrapper.optim_context(self.generator):
            if self.prior_distill is not None:
                targets = self.prior_distill.targets(gt, data_samples)
            res = self.generator(
                masked_img, mask, mode='train', num_samples=k)
        fake01 = res['out01']
        if fake01.shape[0] != gt.shape[0] * k:
            raise RuntimeError(
                f'SPNInpaintor: generator returned batch {fake01.shape[0]}, '
                f'expected {gt.shape[0]} x num_samples {k}')
        gt01 = self.to_unit_range(gt)
        disc_fake = None
        real_feats = None
        if self.with_gan:
            disc_fake = fake01
            if self.train_cfg.get('disc_input', 'raw') == 'composite':
                mask_k = mask.repeat(k, 1, 1, 1)
                disc_fake = fake01 * mask_k + gt01.repeat(k, 1, 1, 1) * (
                    1. - mask_k)
            disc_fake = self.disc_view(disc_fake)
            disc_step = int(self.train_cfg.get('disc_step', 1))
            d_logs, real_feats = self._disc_step(
                self.disc_view(gt01), disc_fake, optim_wrapper)
            log_vars.update(d_logs)
            self.disc_step_count = (self.disc_step_count + 1) % disc_step
            if self.disc_step_count != 0:
                return log_vars

        with g_wrapper.optim_context(self.generator):
            losses = self.generator_loss(res, gt01, mask, targets,
                                         real_feats, disc_fake)
            loss_g, g_logs = self.parse_losses(losses)
            loss_g = PriorDistillation.keep_heads_in_graph(
                loss_g, res.get('distill'), targets)
        g_wrapper.update_params(loss_g)
        log_vars.update(g_logs)
        log_vars['loss_g'] = log_vars.pop('loss')
        if self.with_gan:
            set_requires_grad(self.disc, True)
        return log_vars

    # ------------------------------------------------------------------ #
    # inference
    # ------------------------------------------------------------------ #
    def _test_seeds(self, data_samples: DataSample,
                    batch: int) -> Optional[Union[int, List[int]]]:
        seed = self.test_cfg.get('seed', None)
        if seed is None:
            return None
        idx = None
        try:
            idx = data_samples.metainfo.get('sample_idx', None)
        except AttributeError:
            idx = None
        if isinstance(idx, Sequence) and len(idx) == batch:
            return [int(seed) + int(i) for i in idx]
        return int(seed)

    def forward_tensor(self, inputs: Tensor, data_samples: DataSample
                       ) -> Tuple[Tensor, Tensor]:
        """Raw output and composite, (B, 3, H, W) or (B, K, 3, H, W).

        Args:
            inputs (Tensor): Masked image (B, 3, H, W) in [-1, 1], holes 0.
            data_samples (DataSample): Stacked samples holding ``mask``.

        Returns:
            tuple[Tensor, Tensor]: ``(fake_res, fake_img)``; the composite
            keeps every known pixel of ``inputs``.
        """
        mask = data_samples.mask.float()
        k = int(self.test_cfg.get('num_samples', 1))
        seeds = self._test_seeds(data_samples, inputs.shape[0])
        precision, channels_last = check_precision(
            self.test_cfg.get('precision', 'fp32'), inputs.device,
            self.test_cfg.get('channels_last', None))
        to_memory_format(self.generator, channels_last)
        with precision_context(precision, inputs.device):
            out = self.generator(
                as_memory_format(inputs, channels_last), mask, mode='test',
                num_samples=k, seed=seeds,
                sample=self.test_cfg.get('sample', 'random'))
        out = out.float().contiguous()
        if k > 1:  # (K, B, 3, H, W) -> (B, K, 3, H, W)
            out = out.transpose(0, 1)
            composite = out * mask.unsqueeze(1) + inputs.unsqueeze(1) * (
                1. - mask.unsqueeze(1))
        else:
            composite = out * mask + inputs * (1. - mask)
        return out, composite

    def forward_test(self, inputs: Tensor,
                     data_samples: DataSample) -> DataSample:
        """Predictions de-normalised to 0-255 (mmagic convention).

        Returns:
            DataSample: stacked ``fake_res``, ``fake_img`` and ``pred_img``;
            with ``test_cfg.num_samples = K > 1`` each is (B, K, 3, H, W), so
            every split sample carries (K, 3, H, W).
        """
        fake_res, fake_img = self.forward_tensor(inputs, data_samples)
        if fake_res.dim() == 5:
            b, k = fake_res.shape[:2]
            fake_res = self.data_preprocessor.destruct(
                fake_res.flatten(0, 1), data_samples).view(
                    b, k, *fake_res.shape[2:])
            fake_img = self.data_preprocessor.destruct(
                fake_img.flatten(0, 1), data_samples).view(
                    b, k, *fake_img.shape[2:])
        else:
            fake_res = self.data_preprocessor.destruct(fake_res, data_samples)
            fake_img = self.data_preprocessor.destruct(fake_img, data_samples)
        return DataSample(
            fake_res=fake_res, fake_img=fake_img, pred_img=fake_img)

    def extract_features(self, masked_img: Tensor, mask: Tensor,
                         **kwargs) -> Dict:
        """The generator's intermediate features (see SPNGenerator)."""
        gen = getattr(self.generator, 'module', self.generator)
        return gen.extract_features(masked_img, mask, **kwargs)

    def init_weights(self) -> None:
        """mmengine's initialisation, then load the frozen VGG19 of
        ``model.vgg``, so that a missing or wrong ``vgg_path`` stops
        training before the first step (the Runner calls this when training
        starts; testing and inference never do)."""
        super().init_weights()
        if self.vgg is not None:
            self.vgg.get_extractor('cpu')

    def forward_dummy(self, x: Tensor) -> Tensor:
        """Generator only, for FLOPs counting: ``x`` is (B, 4, H, W)."""
        return self.generator(x)
