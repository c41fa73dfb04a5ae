"""Report missing / corrupt images and masks with counts, before a run.

Check what a dataset config points at (train list, test manifest and the
training mask set)::

    python tools/dataset_converters/check_dataset.py \
        --config configs/_base_/datasets/places2.py

or explicit folders / lists::

    python tools/dataset_converters/check_dataset.py \
        --img-root data/places2/val_256 \
        --img-list data/places2/meta/test_first12000.txt \
        --mask-root data/irregular_mask/testing_mask_dataset

Every file is opened and decoded (``--no-decode`` only checks existence).
Masks are also checked for non-binary pixels (JPEG artefacts; they are
binarised with ``> 127`` anyway), empty/full masks, and a mean hole ratio
above 0.5, which usually means the set stores holes in black (``invert``).
Exit code 0 when nothing is missing or corrupt, 1 otherwise; ``--report``
writes the full lists as JSON.
"""
import argparse
import json
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

import cv2
import numpy as np



def _check_image(path: str, decode: bool) -> str:
    if not osp.isfile(path):
        return 'missing'
    if not decode:
        return 'ok'
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        return 'corrupt'
    return 'ok'


def _check_mask(path: str, decode: bool, threshold: int, invert: bool):
    if not osp.isfile(path):
        return 'missing', None, None
    if not decode:
        return 'ok', None, None
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        return 'corrupt', None, None
    non_binary = float(((img != 0) & (img != 255)).mean())
    hole = img > threshold
    if invert:
        hole = ~hole
    return 'ok', float(hole.mean()), non_binary


def check_images(paths: List[str],
                 decode: bool = True,
                 workers: int = 8) -> Dict[str, list]:
    """Missing / corrupt image paths."""
    with ThreadPoolExecutor(workers) as ex:
        status = list(ex.map(lambda p: _check_image(p, decode), paths))
    return dict(
        total=len(paths),
        missing=[p for p, s in zip(paths, status) if s == 'missing'],
        corrupt=[p for p, s in zip(paths, status) if s == 'corrupt'])


def check_masks(paths: List[str],
                decode: bool = True,
                threshold: int = 127,
                invert: bool = False,
                workers: int = 8) -> dict:
    """Missing / corrupt masks plus hole-ratio statistics."""
    with ThreadPoolExecutor(workers) as ex:
        res = list(
            ex.map(lambda p: _check_mask(p, decode, threshold, invert), paths))
    ratios = [r for s, r, _ in res if s == 'ok' and r is not None]
    non_bin = [nb for s, _, nb in res if s == 'ok' and nb is not None]
    out = dict(
        total=len(paths),
        missing=[p for p, (s, _, _) in zip(paths, res) if s == 'missing'],
        corrupt=[p for p, (s, _, _) in zip(paths, res) if s == 'corrupt'],
        empty=[p for p, (s, r, _) in zip(paths, res) if r == 0.0],
        full=[p for p, (s, r, _) in zip(paths, res) if r == 1.0],
        non_binary=sum(nb > 0 for nb in non_bin),
        mean_hole_ratio=float(np.mean(ratios)) if ratios else None)
    return out


def _read_list(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        return [
            ln.split()[0].lstrip('/') for ln in f
            if ln.strip() and not ln.startswith('#')
        ]


def _from_config(cfg_path: str, which: List[str]) -> List[dict]:
    """Image/mask path sets named by a dataset config."""
    import spn_mm  # noqa: F401 (registers SPN datasets)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from spn_mm.registry import DATASETS
    init_default_scope('mmagic')
    cfg = Config.fromfile(cfg_path)
    jobs = []
    for split in which:
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        ds_cfg = dict(loader['dataset'])
        pipeline = ds_cfg.get('pipeline', [])
        ds_cfg['pipeline'] = []
        ds_cfg.pop('indices', None)
        try:
            ds = DATASETS.build(ds_cfg)
        except FileNotFoundError as e:
            jobs.append(dict(name=f'{split}: dataset', error=str(e)))
            continue
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        jobs.append(
            dict(
                name=f'{split} images',
                kind='img',
                paths=[d['gt_path'] for d in infos]))
        if infos and 'mask_path' in infos[0]:
            jobs.append(
                dict(
                    name=f'{split} masks',
                    kind='mask',
                    paths=sorted({d['mask_path']
                                  for d in infos}),
                    threshold=infos[0].get('mask_threshold', 127),
                    invert=infos[0].get('mask_invert', False)))
        for t in pipeline:
            if t.get('type') in ('SPNIrregularMask', 'SPNLoadMaskFromSet') \
                    and t.get('source', 'set') != 'procedural':
                root = t.get('mask_root')
                if root is None:
                    continue
                from spn_mm.datasets.mask_utils import list_mask_files
                try:
                    files = list_mask_files(root, t.get('mask_list'))
                except FileNotFoundError as e:
                    jobs.append(
                        dict(
                            name=f'{split} mask set',
                            error=str(e) +
                            (' (source=auto falls back to procedural masks)'
                             if t.get('source') == 'auto' else '')))
                    continue
                jobs.append(
                    dict(
                        name=f'{split} mask set ({root})',
                        kind='mask',
                        paths=[osp.join(root, f) for f in files],
                        threshold=t.get('threshold', 127),
                        invert=t.get('invert', False)))
    return jobs


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Report missing/corrupt images and masks with counts')
    parser.add_argument('--config', help='a dataset (or full) config')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'test'],
        help='with --config: dataloaders to check (default train test)')
    parser.add_argument('--img-root')
    parser.add_argument('--img-list')
    parser.add_argument('--mask-root')
    parser.add_argument('--mask-list')
    parser.add_argument('--threshold', type=int, default=127)
    parser.add_argument('--invert', action='store_true')
    parser.add_argument(
        '--no-decode', action='store_true', help='only check existence')
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--report', help='write the full report as JSON')
    args = parser.parse_args(argv)

    jobs = []
    if args.config:
        jobs += _from_config(args.config, args.splits)
    if args.img_root:
        files = _read_list(args.img_list) if args.img_list else None
        if files is None:
            from build_file_lists import scan
            files = scan(args.img_root)
        jobs.append(
            dict(
                name='images',
                kind='img',
                paths=[osp.join(args.img_root, f) for f in files]))
    if args.mask_root:
        from spn_mm.datasets.mask_utils import list_mask_files
        files = list_mask_files(args.mask_root, args.mask_list)
        jobs.append(
            dict(
                name='masks',
                kind='mask',
                paths=[osp.join(args.mask_root, f) for f in files],
                threshold=args.threshold,
                invert=args.invert))
    if not jobs:
        parser.error('give --config, --img-root and/or --mask-root')

    decode = not args.no_decode
    report, failed = {}, False
    for job in jobs:
        name = job['name']
        if 'error' in job:
            print(f'[{name}] ERROR: {job["error"]}')
            report[name] = dict(error=job['error'])
            failed = True
            continue
        if job['kind'] == 'img':
            r = check_images(job['paths'], decode, args.workers)
            print(f'[{name}] total {r["total"]}, missing '
                  f'{len(r["missing"])}, corrupt {len(r["corrupt"])}')
        else:
            r = check_masks(job['paths'], decode, job['threshold'],
                            job['invert'], args.workers)
            ratio = r['mean_hole_ratio']
            print(f'[{name}] total {r["total"]}, missing '
                  f'{len(r["missing"])}, corrupt {len(r["corrupt"])}, '
                  f'empty {len(r["empty"])}, full {len(r["full"])}, '
                  f'non-binary (JPEG?) {r["non_binary"]}, mean hole ratio ' +
                  ('n/a' if ratio is None else f'{ratio:.3f}'))
            if ratio is not None and ratio > 0.5:
                print(f'[{name}] WARNING: mean hole ratio > 0.5 -- are the '
                      'holes black in these files? (use invert=True)')
        for key in ('missing', 'corrupt'):
            for p in r[key][:10]:
                print(f'    {key}: {p}')
            if len(r[key]) > 10:
                print(f'    ... {len(r[key]) - 10} more {key}')
        failed |= bool(r['missing'] or r['corrupt'])
        report[name] = r
    if args.report:
        with open(args.report, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=2)
    print('FAILED' if failed else 'OK')
    return 1 if failed else 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
