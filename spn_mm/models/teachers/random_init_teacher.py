"""Randomly initialised pretext model ("SPN w/ rand", paper Sec. 4.4.2)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from spn_mm.registry import MODELS
from .pretext_teacher import PretextTeacher


@MODELS.register_module()
class RandomInitTeacher(PretextTeacher):
    """A :class:`PretextTeacher` whose weights come from its own seed.

    The model is built (constructor init) and, after pruning, initialised
    with its own ``init_cfg`` (when it has one) inside
    ``torch.random.fork_rng`` seeded with ``init_seed``, so
    the global RNG is untouched and two builds with the same seed give
    identical weights and targets, e.g. after a resume (the teacher is not
    saved in checkpoints). :meth:`init_weights` keeps those weights.

    Note that residual networks with zero-initialised last BN in each block
    (timm TResNet, mmpretrain ResNet ``zero_init_residual``) make the random
    residual branches vanish at init; the targets are then dominated by the
    stem and shortcut paths, which is what a "randomly initialised
    classification model" gives.

    Args:
        model (dict): Registry config of the pretext model.
        taps (Sequence[str]): Module paths, fine -> coarse.
        init_seed (int): Seed of the random initialisation. Default: 0.
        **kwargs: Other :class:`PretextTeacher` arguments except the
            ``checkpoint*`` ones.
    """

    def __init__(self,
                 model: dict,
                 taps,
                 init_seed: int = 0,
                 **kwargs) -> None:
        for key in kwargs:
            if key.startswith('checkpoint'):
                raise ValueError(
                    f'RandomInitTeacher: `{key}` is not supported (its '
                    'weights come from init_seed); use PretextTeacher to '
                    'load weights')
        if not isinstance(init_seed, int):
            raise TypeError('RandomInitTeacher: init_seed must be an int, got '
                            f'{init_seed!r}')
        self.init_seed = init_seed
        super().__init__(model=model, taps=taps, **kwargs)

    def build_model(self, cfg: dict) -> nn.Module:
        """Build the model (constructor init) under the fixed seed."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.init_seed)
            return super().build_model(cfg)

    def after_prune(self) -> None:
        """Apply the model's own ``init_cfg`` (if any) under the seed."""
        if isinstance(self.model, BaseModule) and self.model.init_cfg:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.init_seed)
                self.model.init_weights()

    def init_weights(self) -> None:
        """Keep the seeded weights drawn at build time."""
        self._is_init = True
        self.freeze()

    def load_checkpoint(self, path: Optional[str]) -> None:
        """Not supported: the weights are defined by ``init_seed``."""
        raise RuntimeError('RandomInitTeacher has no checkpoint; its weights '
                           'come from init_seed')
