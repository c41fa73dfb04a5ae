"""SPN losses.

Adversarial losses are **not** re-implemented: mmagic's ``GANLoss``
(``mmagic/models/losses/gan_loss.py``) reproduces both official ones.

* Deterministic SPN (official "nsgan": D ends in a sigmoid + ``nn.BCELoss``)
  -> ``SPNPatchDiscriminator(use_sigmoid=False)`` (logits) with
  ``dict(type='GANLoss', gan_type='vanilla')``. ``vanilla`` is
  ``BCEWithLogitsLoss``, numerically identical to BCE on ``sigmoid(logits)``
  (and more stable). G: ``loss_gan(D(fake), True, is_disc=False)``.
* Probabilistic SPN (official hinge) -> ``SPNProbDiscriminator`` (logits,
  no sigmoid) with ``dict(type='GANLoss', gan_type='hinge')``. G:
  ``-mean(D(fake))`` == ``loss_gan(D(fake), True, is_disc=False)``.
* Both official D losses are ``1/2 [L(real) + L(fake)]``. ``GANLoss``
  ignores ``loss_weight`` when ``is_disc=True``, so the inpaintor applies the
  1/2 (e.g. ``0.5 * (loss_real + loss_fake)``); for the generator term
  ``loss_weight`` is the official ``gan_weight`` (1).

``tests/test_models/test_losses/test_gan_loss_equivalence.py`` checks these
identities numerically.
"""
from .feature_matching_loss import DiscFeatureMatchingLoss
from .kl_loss import GaussianKLLoss
from .mask_weighted_l1_loss import MaskWeightedL1Loss
from .perceptual_loss import (SPN_VGG_LAYER_WEIGHTS, PerceptualDiversityLoss,
                              SPNPerceptualLoss)
from .prior_distillation_loss import PriorDistillationLoss
from .vgg_extractor import (SPN_VGG_LAYERS, SPNVGG19FeatureExtractor,
                            SPNVGGFeatures, clear_vgg19_cache,
                            get_vgg19_extractor)

__all__ = [
    'PriorDistillationLoss', 'MaskWeightedL1Loss', 'GaussianKLLoss',
    'SPNPerceptualLoss', 'PerceptualDiversityLoss', 'DiscFeatureMatchingLoss',
    'SPNVGG19FeatureExtractor', 'SPNVGGFeatures', 'get_vgg19_extractor', 'clear_vgg19_cache',
    'SPN_VGG_LAYERS', 'SPN_VGG_LAYER_WEIGHTS'
]
