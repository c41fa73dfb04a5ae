from . import archs, editors, losses, teachers  # noqa: F401
from .archs import *  # noqa: F401,F403
from .editors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
