"""spn_mm: SPN (Semantic Pyramid Network) inpainting for OpenMMLab / mmagic.

Importing this package

1. applies the stack fixes every user of mmagic 1.2.0 on torch >= 2.6 needs
   (see :mod:`spn_mm.compat`, one version-gated module per fix): mmengine checkpoints load under torch's
   ``weights_only`` default, and mmagic's discriminators no longer crash in
   ``init_weights`` (mmagic#2109);
2. registers every SPN module into mmagic's registries (models, datasets,
   transforms, metrics, hooks).

Configs activate both with ``custom_imports=dict(imports=['spn_mm'])``.
"""
from .compat import apply_all  # noqa: E402 (first: before mmagic)
apply_all()

from . import (analysis, apis, converters, datasets,  # noqa: E402,F401
               engine, evaluation, models, visualization)
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
