"""AOT-GAN trained with SPN's prior learner and distillation loss."""
from typing import Dict, Optional

import torch
from mmagic.models.editors.aotgan import AOTInpaintor
from mmagic.models.utils import set_requires_grad
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapperDict
from torch import Tensor

from spn_mm.registry import MODELS
from ..spn.prior_distillation import (PriorDistillation,
                                      build_prior_distillation)


@MODELS.register_module()
class PriorGuidedAOTInpaintor(AOTInpaintor):
    """mmagic's AOT-GAN with SPN's semantic prior learner (mixing example).

    The generator is a :class:`PriorGuidedEncDec` wrapping mmagic's
    ``AOTEncoderDecoder``. One iteration keeps AOT-GAN's own recipe (its
    input convention ``masked_img + mask``, soft-mask GAN loss on the
    composite, L1 on the raw output, optional perceptual/style terms) and adds
    SPN's prior distillation (:attr:`prior_distill`, a
    :class:`PriorDistillation` built from ``teacher`` and ``loss_prior``):

    1. teacher targets from the un-masked ``gt_img`` (no grad);
    2. generator forward ``encdec(x, return_aux=True)`` (through the model
       wrapper, so DDP works);
    3. discriminator step (real + detached composite);
    4. generator step on AOT-GAN's losses **plus** ``loss_prior`` (logged
       under that name), so gradients reach the learner both through the
       distillation heads and through the host's image losses.

    Both updates go through ``optim_context`` + ``update_params``.

    Args:
        teacher (dict, optional): Frozen SPN teacher (training only).
        loss_prior (dict, optional): ``PriorDistillationLoss``.
        train_cfg (dict, optional): AOT-GAN's (``disc_step``); the
            prior-loss cut is ``PriorLossScheduleHook``'s job.
        **kwargs: Everything :class:`AOTInpaintor` takes (``encdec``,
            ``disc``, ``loss_gan``, ``loss_l1_valid``, ...).
    """

    def __init__(self,
                 data_preprocessor: dict,
                 encdec: dict,
                 teacher: Optional[dict] = None,
                 loss_prior: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        train_cfg = ConfigDict(train_cfg or {})
        train_cfg.setdefault('disc_step', 1)
        super().__init__(
            data_preprocessor=data_preprocessor,
            encdec=encdec,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            **kwargs)
        #: Teacher + prior loss (:class:`PriorDistillation`), or None.
        self.prior_distill = build_prior_distillation(
            teacher, loss_prior, self.generator, 'PriorGuidedAOTInpaintor')

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One AOT-GAN iteration with the prior distillation loss.

        Args:
            data (dict): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): ``generator`` and, with a
                discriminator, ``disc``.

        Returns:
            dict[str, Tensor]: Scalars to log (``disc_losses``,
            ``loss_g_fake``, ``loss_l1_valid``, ``loss_prior``, ``loss_g``,
            ...).
        """
        data = self.data_preprocessor(data, True)
        data_samples = data['data_samples']
        gt = data_samples.gt_img
        mask = data_samples.mask.float()
        masked_img = data['inputs'].float() + mask  # AOT-GAN's convention
        input_x = torch.cat([masked_img, mask], dim=1)
        log_vars = {}

        targets = (None if self.prior_distill is None else
                   self.prior_distill.targets(gt, data_samples))
        g_wrapper = optim_wrapper['generator']
        with g_wrapper.optim_context(self.generator):
            res = self.generator(input_x, return_aux=True)
        fake_res = res['out']
        fake_img = gt * (1. - mask) + fake_res * mask

        if self.with_gan and self.train_cfg.disc_step > 0:
            set_requires_grad(self.disc, True)
            d_wrapper = optim_wrapper['disc']
            with d_wrapper.optim_context(self.disc):
                real = self.forward_train_d(gt, True, True, mask=mask)
                fake = self.forward_train_d(
                    fake_img.detach(), False, True, mask=mask)
                d_losses = dict(
                    disc_losses=real.pop('real_loss') + fake.pop('fake_loss'))
                shift = list(real.values()) + list(fake.values())
                if shift:  # disc shift loss terms (if configured)
                    d_losses['loss_disc_shift'] = sum(shift)
                loss_d, d_logs = self.parse_losses(d_losses)
            d_wrapper.update_params(loss_d)
            d_logs.pop('loss')
            log_vars.update(d_logs)
            self.disc_step_count = (self.disc_step_count +
                                    1) % self.train_cfg.disc_step
            if self.disc_step_count != 0:
                return log_vars
            set_requires_grad(self.disc, False)

        with g_wrapper.optim_context(self.generator):
            _, g_losses = self.generator_loss(fake_res, fake_img, gt, mask,
                                              masked_img)
            if targets is not None:
                g_losses['loss_prior'] = self.prior_distill(
                    res['distill'], targets, mask)
            loss_g, g_logs = self.parse_losses(g_losses)
            loss_g = PriorDistillation.keep_heads_in_graph(
                loss_g, res.get('distill'), targets)
        g_wrapper.update_params(loss_g)
        g_logs['loss_g'] = g_logs.pop('loss')
        log_vars.update(g_logs)
        if self.with_gan:
            set_requires_grad(self.disc, True)
        return log_vars
