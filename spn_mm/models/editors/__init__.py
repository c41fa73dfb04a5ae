from .spn import *  # noqa: F401,F403
from .spn_mixing import *  # noqa: F401,F403
