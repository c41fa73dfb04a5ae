"""Evaluation manifests: fixed, checksummed (image, mask) pairs.

File format (JSON lines, UTF-8, ``\\n`` line ends). The first line is
``{"header": {...}}``; every following line is one record::

    {"bucket":"0.2-0.4","hole_pixels":17286,"hole_ratio":0.263763427734375,
     "idx":0,"img":"Places365_val_00000001.jpg","img_sha1":"...",
     "mask":"00042.png","mask_sha1":"..."}

``img`` is relative to the image root and ``mask`` to the mask root (both are
given when the manifest is made/verified/loaded, never stored, so manifests
are portable). Every line is written canonically (sorted keys, no spaces), so
the **manifest hash** -- the SHA-1 of the canonical text of header and
records -- equals the SHA-1 of the file written by
``tools/dataset_converters/make_eval_manifest.py``, and the same arguments
always give a byte-identical file.
"""
import hashlib
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from spn_mm.evaluation.buckets import (DEFAULT_BUCKET_EDGES, OUT_OF_RANGE,
                                       assign_bucket, bucket_names,
                                       check_bucket_edges)
from .mask_utils import read_mask, sha1_file

MANIFEST_FORMAT = 'spn_mm.eval_manifest'
MANIFEST_VERSION = 1
RECORD_KEYS = ('idx', 'img', 'img_sha1', 'mask', 'mask_sha1', 'hole_pixels',
               'hole_ratio', 'bucket')


def _canonical(obj: dict) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(',', ':'), ensure_ascii=True)


def manifest_text(header: dict, records: Sequence[dict]) -> str:
    """Canonical text of a manifest (what is written and hashed)."""
    lines = [_canonical({'header': header})]
    lines += [_canonical(r) for r in records]
    return '\n'.join(lines) + '\n'


def manifest_hash(header: dict, records: Sequence[dict]) -> str:
    """SHA-1 hex digest of the canonical manifest text."""
    return hashlib.sha1(manifest_text(header,
                                      records).encode('utf-8')).hexdigest()


def write_manifest(path: str, header: dict, records: Sequence[dict]) -> str:
    """Write a manifest canonically and return its hash."""
    text = manifest_text(header, records)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


def load_manifest(path: str) -> Tuple[dict, List[dict], str]:
    """Read and validate a manifest.

    Args:
        path (str): The ``.jsonl`` manifest.

    Returns:
        tuple: ``(header, records, manifest_hash)``; the hash is recomputed
        from the canonical form of the parsed content.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'ann_file: evaluation manifest {path!r} does not exist; make it '
            'with tools/dataset_converters/make_eval_manifest.py')
    header, records = None, []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{lineno}: not valid JSON ({e})')
            if header is None:
                if 'header' not in obj or obj['header'].get(
                        'format') != MANIFEST_FORMAT:
                    raise ValueError(
                        f'{path}:{lineno}: first line must be the header '
                        f'{{"header": {{"format": "{MANIFEST_FORMAT}", ...}}}}'
                    )
                header = obj['header']
                continue
            missing = [k for k in RECORD_KEYS if k not in obj]
            if missing:
                raise ValueError(
                    f'{path}:{lineno}: record misses fields {missing}')
            records.append(obj)
    if header is None:
        raise ValueError(f'{path}: empty manifest')
    if header.get('num_images') is not None and \
            header['num_images'] != len(records):
        raise ValueError(
            f'{path}: header says num_images={header["num_images"]} but the '
            f'file has {len(records)} records (truncated file?)')
    return header, records, manifest_hash(header, records)


def pair_indices(num_images: int, num_masks: int, seed: int) -> List[int]:
    """Mask index for each image, without replacement where possible.

    Masks are drawn as consecutive random permutations of the pool
    (``np.random.RandomState(seed)``, whose stream NumPy keeps stable across
    versions): with ``num_images <= num_masks`` every image gets a different
    mask; otherwise every mask is used ``floor``/``ceil(num_images /
    num_masks)`` times.

    Args:
        num_images (int): Number of images.
        num_masks (int): Size of the mask pool.
        seed (int): Pairing seed.

    Returns:
        list[int]: ``num_images`` indices into the mask pool.
    """
    if num_masks <= 0:
        raise ValueError('mask pool is empty')
    rs = np.random.RandomState(int(seed))
    out: List[int] = []
    while len(out) < num_images:
        out.extend(int(i) for i in rs.permutation(num_masks))
    return out[:num_images]


def build_manifest(
    img_root: str,
    img_files: Sequence[str],
    mask_root: str,
    mask_files: Sequence[str],
    size: Tuple[int, int] = (256, 256),
    seed: int = 0,
    bucket_edges: Sequence[float] = DEFAULT_BUCKET_EDGES,
    threshold: int = 127,
    invert: bool = False,
    dataset: str = '',
    progress: Optional[Callable[[int, int], None]] = None
) -> Tuple[dict, List[dict]]:
    """Pair images with masks and measure every pair.

    Args:
        img_root (str): Root of ``img_files``.
        img_files (Sequence[str]): Test images (relative), in test order.
        mask_root (str): Root of ``mask_files``.
        mask_files (Sequence[str]): Mask pool (relative), in a fixed order.
        size (tuple[int, int]): ``(H, W)`` the test pipeline resizes to; the
            hole ratio is measured after a nearest resize to it.
        seed (int): Pairing seed.
        bucket_edges (Sequence[float]): Bucket edges.
        threshold (int): Mask binarisation threshold.
        invert (bool): Holes are black in the mask files.
        dataset (str): Free-form dataset name stored in the header.
        progress (callable, optional): ``progress(done, total)``.

    Returns:
        tuple: ``(header, records)``.
    """
    edges = check_bucket_edges(bucket_edges)
    size = (int(size[0]), int(size[1]))
    if not img_files:
        raise ValueError('no test images given')
    pairs = pair_indices(len(img_files), len(mask_files), seed)
    mask_cache: Dict[int, Tuple[str, int]] = {}
    records = []
    for i, (img, m) in enumerate(zip(img_files, pairs)):
        img_path = osp.join(img_root, img)
        if not osp.isfile(img_path):
            raise FileNotFoundError(f'test image {img_path!r} does not exist')
        if m not in mask_cache:
            mpath = osp.join(mask_root, mask_files[m])
            mask = read_mask(mpath, size, threshold, invert)
            mask_cache[m] = (sha1_file(mpath), int(mask.sum()))
        msha, pixels = mask_cache[m]
        ratio = pixels / float(size[0] * size[1])
        records.append(
            dict(
                idx=i,
                img=img.replace('\\', '/'),
                img_sha1=sha1_file(img_path),
                mask=mask_files[m].replace('\\', '/'),
                mask_sha1=msha,
                hole_pixels=pixels,
                hole_ratio=ratio,
                bucket=assign_bucket(ratio, edges)))
        if progress is not None:
            progress(i + 1, len(img_files))
    counts = {name: 0 for name in bucket_names(edges) + [OUT_OF_RANGE]}
    for r in records:
        counts[r['bucket']] += 1
    header = dict(
        format=MANIFEST_FORMAT,
        version=MANIFEST_VERSION,
        dataset=dataset,
        seed=int(seed),
        size=list(size),
        num_images=len(records),
        mask_pool_size=len(mask_files),
        with_replacement=len(img_files) > len(mask_files),
        pairing='consecutive RandomState(seed).permutation(mask_pool)',
        bucket_edges=list(edges),
        bucket_counts=counts,
        threshold=int(threshold),
        invert=bool(invert),
        ratio_measured_at='nearest resize of the binarised mask to size')
    return header, records


def verify_manifest(path: str,
                    img_root: str,
                    mask_root: str,
                    check_ratios: bool = True) -> dict:
    """Re-check every checksum (and hole ratio) of a manifest.

    Args:
        path (str): Manifest file.
        img_root (str): Image root.
        mask_root (str): Mask root.
        check_ratios (bool): Also re-measure every hole ratio.

    Returns:
        dict: ``ok`` (bool), ``manifest_hash``, ``num_records`` and lists
        ``missing``, ``img_sha1_mismatch``, ``mask_sha1_mismatch``,
        ``ratio_mismatch`` (record indices / paths).
    """
    header, records, mhash = load_manifest(path)
    size = tuple(header['size'])
    report = dict(
        manifest_hash=mhash,
        num_records=len(records),
        missing=[],
        img_sha1_mismatch=[],
        mask_sha1_mismatch=[],
        ratio_mismatch=[])
    mask_sha: Dict[str, Optional[str]] = {}
    mask_pixels: Dict[str, int] = {}
    for r in records:
        ipath = osp.join(img_root, r['img'])
        if not osp.isfile(ipath):
            report['missing'].append(ipath)
        elif sha1_file(ipath) != r['img_sha1']:
            report['img_sha1_mismatch'].append(r['idx'])
        mpath = osp.join(mask_root, r['mask'])
        if mpath not in mask_sha:
            if not osp.isfile(mpath):
                report['missing'].append(mpath)
                mask_sha[mpath] = None
            else:
                mask_sha[mpath] = sha1_file(mpath)
        if mask_sha[mpath] is None:
            continue
        if mask_sha[mpath] != r['mask_sha1']:
            report['mask_sha1_mismatch'].append(r['idx'])
        elif check_ratios:
            if mpath not in mask_pixels:
                mask = read_mask(mpath, size, header.get('threshold', 127),
                                 header.get('invert', False))
                mask_pixels[mpath] = int(mask.sum())
            if mask_pixels[mpath] != r['hole_pixels']:
                report['ratio_mismatch'].append(r['idx'])
    report['ok'] = not any(report[k]
                           for k in ('missing', 'img_sha1_mismatch',
                                     'mask_sha1_mismatch', 'ratio_mismatch'))
    return report
