"""A pre-trained SPN prior learner as teacher (paper Table 5)."""
import copy
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from spn_mm.registry import MODELS
from .base_teacher import BaseTeacher
from .teacher_checkpoint import load_into, load_teacher_state_dict


@MODELS.register_module()
class SPNPriorTeacher(BaseTeacher):
    """Targets from the prior pyramid of another (pre-trained) SPN model.

    Table 5 of the paper ("w/ S_prior^L") distils a new model from the
    priors of an SPN pre-trained on Places2. The learner
    (``dict(type='SemanticPriorLearner', ...)``, built through ``MODELS``)
    sees the **full** image with an **all-zero** mask: its input is
    ``cat([img01_2x, zeros])`` (B, 4, 2H, 2W), where ``img01_2x`` is the
    [0, 1] image up-sampled 2x with ``upsample_mode`` (default ``'nearest'``,
    as the learner was trained on nearest 2x views). With a zero mask the
    "holes filled with 1" convention changes nothing.

    ``target='priors'`` (default, the paper's S_prior) returns the learner's
    pre-head prior features (official layout_256/128/64; channels
    ``learner.prior_channels``), ``target='distill'`` its distillation-head
    outputs (``learner.head_channels``).

    Only the deterministic learner is supported (``variational_channels``
    must be 0, as in Table 5). Weights come from a local spn_mm checkpoint in
    :meth:`init_weights`; ``checkpoint_prefix`` selects the learner inside
    it.

    Args:
        learner (dict): ``SemanticPriorLearner`` config; its ``num_scales``
            (levels produced) sets ``num_levels``.
        num_scales (int, optional): Coarsest levels returned. Default: None
            (all produced levels).
        target (str): ``'priors'`` or ``'distill'``. Default: ``'priors'``.
        upsample_factor (int): See :class:`BaseTeacher`. Default: 2.
        upsample_mode (str): See :class:`BaseTeacher`. Default: 'nearest'.
        checkpoint (str, optional): Local spn_mm checkpoint. Default: None.
        checkpoint_key (str): Config key named in errors.
            Default: ``'model.teacher.checkpoint'``.
        checkpoint_prefix (str, optional): Prefix of the learner's keys in the
            checkpoint. Default: ``'generator.prior_learner.'``.
        strict (bool): Error on unused checkpoint keys. Default: False.
        init_cfg (dict, optional): Unused. Default: None.
    """

    def __init__(self,
                 learner: dict,
                 num_scales: Optional[int] = None,
                 target: str = 'priors',
                 upsample_factor: int = 2,
                 upsample_mode: str = 'nearest',
                 checkpoint: Optional[str] = None,
                 checkpoint_key: str = 'model.teacher.checkpoint',
                 checkpoint_prefix: Optional[str] = 'generator.prior_learner.',
                 strict: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if not isinstance(learner, dict) or 'type' not in learner:
            raise TypeError('SPNPriorTeacher: `learner` must be a registry '
                            f'config dict with a "type", got {learner!r}')
        if target not in ('priors', 'distill'):
            raise ValueError('SPNPriorTeacher: target must be "priors" or '
                             f'"distill", got {target!r}')
        built = MODELS.build(copy.deepcopy(dict(learner)))
        if getattr(built, 'variational_channels', 0):
            raise ValueError('SPNPriorTeacher: only a deterministic learner '
                             '(variational_channels=0) can be a teacher')
        super().__init__(
            num_levels=int(built.num_scales),
            num_scales=num_scales,
            upsample_factor=upsample_factor,
            upsample_mode=upsample_mode,
            init_cfg=init_cfg)
        self.learner = built
        self.target = target
        self.checkpoint = checkpoint
        self.checkpoint_key = checkpoint_key
        self.checkpoint_prefix = checkpoint_prefix
        self.strict = strict
        self.freeze()

    @property
    def out_channels(self) -> List[int]:
        """Channels of the returned targets, fine -> coarse."""
        chans = (
            self.learner.prior_channels
            if self.target == 'priors' else self.learner.head_channels)
        return [int(chans[lvl]) for lvl in self.levels]

    def extract(self, x: Tensor, sizes: List[Tuple[int, int]]) -> List[Tensor]:
        """Run the learner on the full 2x view with an all-zero mask
        (arguments and result as :meth:`BaseTeacher.extract`)."""
        zeros = x.new_zeros(x.shape[0], 1, *x.shape[-2:])
        priors, distill = self.learner(torch.cat([x, zeros], dim=1))
        feats = priors if self.target == 'priors' else distill
        outs = [feats[lvl] for lvl in self.levels]
        for out, size in zip(outs, sizes):
            if tuple(out.shape[-2:]) != tuple(size):
                raise RuntimeError(
                    f'SPNPriorTeacher: learner level of size '
                    f'{tuple(out.shape[-2:])} does not match the target size '
                    f'{tuple(size)} (upsample_factor must be 2)')
        return outs

    def init_weights(self) -> None:
        """Load ``checkpoint`` (local file) or random-init the learner."""
        if self.checkpoint is None:
            if hasattr(self.learner, 'init_weights'):
                self.learner.init_weights()
        else:
            state = load_teacher_state_dict(self.checkpoint,
                                            self.checkpoint_key,
                                            self.checkpoint_prefix)
            load_into(
                self.learner,
                state,
                self.checkpoint_key,
                self.checkpoint,
                strict=self.strict)
        self._is_init = True
        self.freeze()
