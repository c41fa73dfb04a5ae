"""Up-front dataset checks for ``tools/train.py`` and ``tools/test.py``.

Before the Runner is built, :func:`preflight_dataloader` checks what a
dataloader config points at: ``data_root``, the image folders, the file list
(``ann_file``) and its first :data:`PREFLIGHT_ENTRIES` entries, or, for an
evaluation manifest, the manifest itself and the files and checksums of its
first :data:`PREFLIGHT_ENTRIES` records. A problem raises
:class:`DatasetCheckError` with one line naming the field and the file. The
full check (every file decoded) stays in
``tools/dataset_converters/check_dataset.py``. A dataset with
``allow_missing=True`` or ``skip_bad_files=True`` may lack entries: their
existence is then not checked (a manifest checksum still is).
"""
import os
import os.path as osp
from typing import List, Optional

from .manifest_utils import load_manifest, sha1_file

#: How many file-list entries / manifest records are checked up front.
PREFLIGHT_ENTRIES = 100


class DatasetCheckError(ValueError):
    """A dataset config (or the work dir) points at something missing or
    inconsistent."""


def _join(root: str, path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def _datasets(cfg: dict) -> List[dict]:
    """The leaf dataset configs of (Repeat/Concat) dataset wrappers."""
    if 'datasets' in cfg:
        return [d for sub in cfg['datasets'] for d in _datasets(sub)]
    if 'dataset' in cfg and isinstance(cfg['dataset'], dict):
        return _datasets(cfg['dataset'])
    return [cfg]


def _file_list_entries(path: str, limit: int) -> List[str]:
    names = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line:
                names.append(line.split()[0])
            if len(names) >= limit:
                break
    return names


def preflight_dataset(ds: dict,
                      field: str,
                      limit: int = PREFLIGHT_ENTRIES) -> None:
    """Check one dataset config (see the module docstring).

    Args:
        ds (dict): A dataset config (``type``, ``data_root``, ...).
        field (str): Where it sits, for messages
            (``'train_dataloader.dataset'``).
        limit (int): Entries/records checked. Default: 100.
    """
    root = ds.get('data_root', '') or ''
    if root and not osp.isdir(root):
        raise DatasetCheckError(
            f'{field}.data_root: folder {root!r} does not exist (expected '
            'the dataset root; set it with --cfg-options '
            f'{field}.data_root=DIR)')
    prefix = dict(ds.get('data_prefix', {}) or {})
    ann = ds.get('ann_file', '') or ''
    ann_path = _join(root, ann) if ann else ''
    if ann and not osp.isfile(ann_path):
        raise DatasetCheckError(
            f'{field}.ann_file: file {ann_path!r} does not exist (expected a '
            'file list or evaluation manifest)')
    tolerant = bool(ds.get('allow_missing') or ds.get('skip_bad_files'))
    if ds.get('type') == 'SPNManifestDataset':
        _check_manifest(ds, field, root, prefix, ann_path, limit, tolerant)
        return
    gt_root = _join(root, prefix.get('gt', prefix.get('img', '')) or '')
    if gt_root and not osp.isdir(gt_root):
        raise DatasetCheckError(
            f'{field}.data_prefix: image folder {gt_root!r} does not exist')
    mask_root: Optional[str] = None
    if prefix.get('mask'):
        mask_root = _join(root, prefix['mask'])
        if not osp.isdir(mask_root):
            raise DatasetCheckError(
                f'{field}.data_prefix: mask folder {mask_root!r} does not '
                'exist')
    if not ann or tolerant:
        return
    for n, name in enumerate(_file_list_entries(ann_path, limit), 1):
        path = _join(gt_root, name)
        if not osp.isfile(path):
            raise DatasetCheckError(
                f'{field}.ann_file: {ann_path!r} line {n}: image {path!r} '
                'does not exist')


def _check_manifest(ds: dict, field: str, root: str, prefix: dict,
                    ann_path: str, limit: int, tolerant: bool) -> None:
    try:
        _, records, _ = load_manifest(ann_path)
    except (ValueError, OSError) as err:
        raise DatasetCheckError(f'{field}.ann_file: {err}') from err
    gt_root = _join(root, prefix.get('gt', '') or '')
    mask_root = ds.get('mask_root')
    if mask_root is None:
        mask_root = _join(root, prefix.get('mask', '') or '')
    for r in records[:limit]:
        for key, base in (('img', gt_root), ('mask', mask_root)):
            path = osp.join(base, r[key])
            if not osp.isfile(path) and tolerant:
                continue
            if not osp.isfile(path):
                raise DatasetCheckError(
                    f'{field}: manifest {ann_path!r} record {r["idx"]}: '
                    f'{key} {path!r} does not exist')
            if sha1_file(path) != r[f'{key}_sha1']:
                raise DatasetCheckError(
                    f'{field}: manifest {ann_path!r} record {r["idx"]}: '
                    f'{key} {path!r} has another checksum than the manifest '
                    'records (the file changed after the manifest was made)')


def preflight_dataloader(cfg: dict,
                         name: str,
                         limit: int = PREFLIGHT_ENTRIES) -> None:
    """Check every dataset of the dataloader config ``cfg[name]``.

    Args:
        cfg (dict): The full config.
        name (str): ``'train_dataloader'``, ``'val_dataloader'`` or
            ``'test_dataloader'``; a missing/None field is skipped.
        limit (int): Entries/records checked per dataset. Default: 100.
    """
    loader = cfg.get(name)
    if not loader or not isinstance(loader.get('dataset'), dict):
        return
    datasets = _datasets(loader['dataset'])
    for i, ds in enumerate(datasets):
        field = f'{name}.dataset' + (f'[{i}]' if len(datasets) > 1 else '')
        preflight_dataset(ds, field, limit)


def preflight_work_dir(path: str) -> None:
    """Check that the work dir exists as a folder or can be created.

    Args:
        path (str): ``cfg.work_dir``.
    """
    if osp.isdir(path):
        if not os.access(path, os.W_OK):
            raise DatasetCheckError(
                f'work_dir: folder {path!r} is not writable')
        return
    if osp.exists(path):
        raise DatasetCheckError(
            f'work_dir: {path!r} exists and is not a folder')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise DatasetCheckError(
            f'work_dir: cannot create {path!r} ({err.strerror})') from err
