"""A local web demo on top of :class:`spn_mm.apis.SPNInpainter`.

* :mod:`.security` - Host (DNS rebinding) and Origin (CSRF) checks;
* :mod:`.service` - decoding/checking uploads in memory, one inference at a
  time, PNG/zip encoding (no web framework needed);
* :mod:`.app` - the Starlette app (needs the ``web`` extra:
  ``pip install -e .[web]``); the page lives in ``static/``.

Start it with ``tools/web_demo.py CONFIG CHECKPOINT``.
"""
from .security import RequestGuard, bind_warning, is_loopback
from .service import InpaintService, WebInputError, WebLimits

__all__ = [
    'RequestGuard', 'bind_warning', 'is_loopback', 'InpaintService',
    'WebInputError', 'WebLimits'
]
