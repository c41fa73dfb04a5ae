"""Named errors for corrupt or missing files inside a dataset.

:class:`NamedFileErrorsMixin` wraps ``prepare_data`` of a dataset: when the
pipeline fails on a sample whose image/mask file is missing or cannot be
decoded, it raises :class:`DataFileError` naming the dataset, the sample
index and the file, instead of the raw cv2/mmcv error. With
``skip_bad_files=True`` (training only) such a sample is skipped instead:
mmengine's ``BaseDataset`` then draws another index (up to ``max_refetch``
times) and every skip is logged with the running count.

``allow_missing=True`` (for testing) checks every sample's files when the
data list is loaded (each file is decoded once more) and drops the pairs
with a missing/unreadable file; they are listed in the dataset's
``metainfo['skipped_pairs']`` (``index``, ``file``, ``reason``), which
``SPNInpaintingMetric`` and ``tools/test.py --out`` record with the
metrics. Without it a test run stops at the first such pair.
"""
import logging
import os.path as osp
from typing import List, Optional, Tuple

import cv2
from mmengine.logging import print_log


class DataFileError(ValueError):
    """A dataset sample's file is missing or not a readable image."""


def unreadable_files(info: dict) -> List[Tuple[str, str]]:
    """``(path, reason)`` of every ``*_path`` file of a data info that is
    missing or that OpenCV cannot decode."""
    bad = []
    for key in sorted(info):
        path = info[key]
        if not key.endswith('_path') or not isinstance(path, str):
            continue
        if not osp.isfile(path):
            bad.append((path, 'does not exist'))
        elif cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
            bad.append((path, 'is not a readable image (corrupt or '
                        'truncated?)'))
    return bad


class NamedFileErrorsMixin:
    """``prepare_data`` with named file errors (see the module docstring).

    The dataset class must pop ``skip_bad_files`` and ``allow_missing``
    from its arguments and call :meth:`_init_file_errors` before
    ``BaseDataset.__init__``.
    """

    def _init_file_errors(self, skip_bad_files: bool,
                          allow_missing: bool = False) -> None:
        self.skip_bad_files = bool(skip_bad_files)
        self.allow_missing = bool(allow_missing)
        self.skipped_files = 0

    def filter_data(self) -> List[dict]:
        """The data list; with ``allow_missing`` without unreadable pairs
        (recorded in ``metainfo['skipped_pairs']``)."""
        data_list = super().filter_data()
        if not self.allow_missing:
            return data_list
        kept, skipped = [], []
        for i, info in enumerate(data_list):
            bad = unreadable_files(info)
            if bad:
                skipped.append(
                    dict(
                        index=int(info.get('manifest_idx', i)),
                        file=bad[0][0],
                        reason=bad[0][1]))
            else:
                kept.append(info)
        self._metainfo['skipped_pairs'] = skipped
        if skipped:
            print_log(
                f'allow_missing: {len(skipped)} of {len(data_list)} pair(s) '
                f'skipped (missing/unreadable files), first: '
                f"{skipped[0]['file']} ({skipped[0]['reason']})",
                logger='current',
                level=logging.WARNING)
        return kept

    def prepare_data(self, idx: int) -> Optional[dict]:
        """The pipeline output of sample ``idx`` (None: skipped)."""
        try:
            return super().prepare_data(idx)
        except Exception as err:  # noqa: BLE001 - re-raised unless a file
            bad = unreadable_files(self.get_data_info(idx))
            if not bad:
                raise
            path, reason = bad[0]
            msg = (f'{type(self).__name__} sample {idx}: file {path!r} '
                   f'{reason}')
            if self.skip_bad_files and not self.test_mode:
                self.skipped_files += 1
                print_log(
                    f'skip_bad_files: skipped {msg} ({self.skipped_files} '
                    'skipped so far)',
                    logger='current',
                    level=logging.WARNING)
                return None
            hint = ' (test_dataloader.dataset.allow_missing=True skips ' \
                'such pairs and records them)' if self.test_mode else \
                ' (train_dataloader.dataset.skip_bad_files=True skips such ' \
                'files)'
            raise DataFileError(msg + hint) from err
