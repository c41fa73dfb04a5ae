"""Dataset reading an evaluation manifest of fixed (image, mask) pairs."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from spn_mm.registry import DATASETS
from .file_errors import NamedFileErrorsMixin
from .manifest_utils import load_manifest


@DATASETS.register_module()
class SPNManifestDataset(NamedFileErrorsMixin, BaseDataset):
    """Test set defined by a manifest from ``make_eval_manifest.py``.

    Every sample is one manifest record, in manifest order; nothing is ever
    dropped (use ``DefaultSampler(shuffle=False)`` and the default
    ``drop_last=False``). Each data info holds ``gt_path``, ``mask_path``,
    ``hole_ratio``, ``hole_pixels``, ``bucket``, ``img_sha1``, ``mask_sha1``,
    ``manifest_idx`` and ``manifest_hash``; pack the ones you need into the
    data sample's metainfo with
    ``PackInputs(meta_keys=['mask_path', 'hole_ratio', 'bucket',
    'manifest_hash'])``.

    The dataset ``metainfo`` holds ``dataset_name``, ``manifest_hash``,
    ``manifest_size`` (the (H, W) the hole ratios were measured at; the test
    pipeline must resize to it), ``bucket_edges``, ``bucket_counts`` and
    ``manifest_seed``; mmagic's loops hand it to the metric as
    ``dataset_meta``.

    Args:
        ann_file (str): The manifest (``.jsonl``), relative to ``data_root``
            unless absolute.
        data_root (str): Dataset root.
        data_prefix (dict): ``gt``: image root and ``mask``: mask root, both
            relative to ``data_root`` unless absolute. The manifest's paths
            are relative to these. Defaults to ``dict(gt='', mask='')``.
        mask_root (str, optional): Mask root used as given (absolute or
            relative to the working directory, **not** joined with
            ``data_root``); overrides ``data_prefix['mask']``. Handy because
            one mask set serves several datasets.
        pipeline (list): Test pipeline.
        dataset_name (str, optional): Name used for the FID cache and the
            result files; defaults to the manifest header's ``dataset`` or
            the manifest file's stem.
        indices (int | Sequence[int], optional): Sub-set for debugging
            (mmengine semantics).
        test_mode (bool): Defaults to True.
        skip_bad_files (bool): Training only: skip a sample whose file is
            missing/corrupt (logged) instead of raising
            :class:`~spn_mm.datasets.file_errors.DataFileError` (which
            names the sample index and the file). Default: False.
        allow_missing (bool): Testing: drop the pairs whose file is
            missing/unreadable, recorded in ``metainfo['skipped_pairs']``
            and by the metric; without it such a pair stops the run.
            Default: False.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(dataset_type='inpainting_eval_manifest')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: dict = dict(gt='', mask=''),
                 pipeline: List[Union[dict, Callable]] = [],
                 mask_root: Optional[str] = None,
                 dataset_name: Optional[str] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 test_mode: bool = True,
                 skip_bad_files: bool = False,
                 allow_missing: bool = False,
                 **kwargs) -> None:
        self._init_file_errors(skip_bad_files, allow_missing)
        data_prefix = dict(data_prefix)
        for key in ('gt', 'mask'):
            data_prefix.setdefault(key, '')
        self._dataset_name = dataset_name
        self._mask_root = mask_root
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=pipeline,
            indices=indices,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the manifest into data infos."""
        header, records, mhash = load_manifest(self.ann_file)
        name = self._dataset_name or header.get('dataset') or \
            osp.splitext(osp.basename(self.ann_file))[0]
        self._metainfo.update(
            dataset_name=name,
            manifest_file=self.ann_file,
            manifest_hash=mhash,
            manifest_size=tuple(header['size']),
            manifest_seed=header.get('seed'),
            bucket_edges=tuple(header.get('bucket_edges', ())),
            bucket_counts=dict(header.get('bucket_counts', {})),
            mask_threshold=header.get('threshold', 127),
            mask_invert=header.get('invert', False))
        gt_root = self.data_prefix['gt']
        mask_root = self._mask_root if self._mask_root is not None \
            else self.data_prefix['mask']
        data_list = []
        for r in records:
            data_list.append(
                dict(
                    key=osp.splitext(r['img'])[0],
                    gt_path=osp.join(gt_root, r['img']),
                    mask_path=osp.join(mask_root, r['mask']),
                    img_sha1=r['img_sha1'],
                    mask_sha1=r['mask_sha1'],
                    hole_pixels=int(r['hole_pixels']),
                    hole_ratio=float(r['hole_ratio']),
                    bucket=r['bucket'],
                    manifest_idx=int(r['idx']),
                    manifest_hash=mhash,
                    mask_threshold=int(header.get('threshold', 127)),
                    mask_invert=bool(header.get('invert', False))))
        return data_list
