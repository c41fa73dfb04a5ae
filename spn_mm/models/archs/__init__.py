from .spn_patch_disc import SPNPatchDiscriminator
from .spn_prob_disc import SPNProbDiscriminator

__all__ = ['SPNPatchDiscriminator', 'SPNProbDiscriminator']
