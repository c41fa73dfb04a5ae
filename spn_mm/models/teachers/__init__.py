from .base_teacher import (BaseTeacher, exclude_teacher_from_ddp,
                           strip_teacher_keys)
from .edge_teacher import EdgeTeacher
from .pretext_teacher import PretextTeacher
from .random_init_teacher import RandomInitTeacher
from .spn_prior_teacher import SPNPriorTeacher
from .teacher_checkpoint import TEACHER_KEY_MAPS, load_teacher_state_dict

__all__ = [
    'BaseTeacher', 'PretextTeacher', 'RandomInitTeacher', 'EdgeTeacher',
    'SPNPriorTeacher', 'strip_teacher_keys', 'exclude_teacher_from_ddp',
    'TEACHER_KEY_MAPS', 'load_teacher_state_dict'
]
