"""Data-pipeline randomness as a function of (seed, epoch, sample index).

mmengine's samplers hand the dataset a plain index, and random transforms
(mask generation, flips) draw from the process-global ``random`` /
``np.random`` / ``torch`` generators. Their state then depends on process
history: how many samples this process (or dataloader worker) loaded
before, which differs between an uninterrupted and a resumed run, and
between 1 process x batch 2b and 2 ranks x batch b.

The samplers below yield :class:`SampleKey` tuples ``(index, epoch, seed)``
instead; :class:`SPNImageDataset` runs the pipeline of sample ``index`` with
the three global generators seeded from ``(seed, epoch, index)`` and
restores their previous state afterwards (so the model's own randomness is
not touched). A sample's mask and flips are then the same whatever rank,
worker or resume history loaded it.

``epoch`` is the pass over the dataset: the epoch of
:class:`SeededDefaultSampler` (set by ``DistSamplerSeedHook``), and the
number of completed permutations in :class:`SeededInfiniteSampler`.
"""
import contextlib
import itertools
import random
from typing import Iterator, NamedTuple, Union

import numpy as np
import torch
from mmagic.datasets import BasicImageDataset
from mmengine.dataset import DefaultSampler, InfiniteSampler

from spn_mm.registry import DATA_SAMPLERS, DATASETS
from .file_errors import NamedFileErrorsMixin


class SampleKey(NamedTuple):
    """What a seeded sampler yields: which sample, in which pass, how seeded.
    """
    index: int
    epoch: int
    seed: int


@contextlib.contextmanager
def seeded_global_rngs(seed: int, epoch: int, index: int) -> Iterator[None]:
    """Seed ``random``, ``np.random`` and ``torch`` from the key; restore.

    The three seeds are drawn from ``np.random.SeedSequence([seed, epoch,
    index])``, so neighbouring keys give unrelated streams.

    Args:
        seed (int): The run's seed (``randomness.seed`` or the sampler's).
        epoch (int): Pass over the dataset (>= 0).
        index (int): Sample index (>= 0).
    """
    words = np.random.SeedSequence(
        [int(seed) % 2**32, int(epoch), int(index)]).generate_state(3)
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(int(words[0]))
    np.random.seed(int(words[1]))
    torch.manual_seed(int(words[2]))
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


@DATA_SAMPLERS.register_module()
class SeededInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` yielding :class:`SampleKey` s.

    Same order, rank slicing and shuffling as ``InfiniteSampler``; each
    index carries the number of the permutation it comes from and the
    sampler's seed. Use with :class:`SPNImageDataset`.
    """

    def _infinite_indices(self) -> Iterator[SampleKey]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        for epoch in itertools.count():
            order = (torch.randperm(self.size, generator=g)
                     if self.shuffle else torch.arange(self.size))
            for idx in order.tolist():
                yield SampleKey(idx, epoch, self.seed)


@DATA_SAMPLERS.register_module()
class SeededDefaultSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (epoch-based loops) yielding
    :class:`SampleKey` s with the sampler's current epoch."""

    def __iter__(self) -> Iterator[SampleKey]:
        for idx in super().__iter__():
            yield SampleKey(int(idx), int(self.epoch), int(self.seed))


@DATASETS.register_module()
class SPNImageDataset(NamedFileErrorsMixin, BasicImageDataset):
    """mmagic's ``BasicImageDataset`` with seeded per-sample pipelines.

    Accepts a plain ``int`` (unchanged behaviour: global generators) or a
    :class:`SampleKey` from :class:`SeededInfiniteSampler` /
    :class:`SeededDefaultSampler` (pipeline run under
    :func:`seeded_global_rngs`). Every ``BasicImageDataset`` argument is
    accepted. A missing/corrupt file raises :class:`DataFileError` naming
    the sample index and the file; ``skip_bad_files=True`` (training only)
    skips it instead, logging the count; ``allow_missing=True`` (testing)
    drops and records such pairs (:mod:`spn_mm.datasets.file_errors`).
    """

    def __init__(self,
                 *args,
                 skip_bad_files: bool = False,
                 allow_missing: bool = False,
                 **kwargs) -> None:
        self._init_file_errors(skip_bad_files, allow_missing)
        super().__init__(*args, **kwargs)

    def __getitem__(self, idx: Union[int, SampleKey]) -> dict:
        if isinstance(idx, tuple):
            key = SampleKey(*idx)
            with seeded_global_rngs(key.seed, key.epoch, key.index):
                return super().__getitem__(key.index)
        return super().__getitem__(idx)
