"""Make (or verify) a reproducible evaluation manifest of (image, mask) pairs.

Make::

    python tools/dataset_converters/make_eval_manifest.py \
        --img-root data/places2/val_256 \
        --img-list data/places2/meta/val_first12000.txt \
        --mask-root data/irregular_mask/testing_mask_dataset \
        --size 256 --seed 0 --dataset places2 \
        --out data/places2/meta/eval_manifest_seed0.jsonl

Verify (re-checks every SHA-1 and hole ratio; exit code 1 on any problem)::

    python tools/dataset_converters/make_eval_manifest.py \
        --verify data/places2/meta/eval_manifest_seed0.jsonl \
        --img-root data/places2/val_256 \
        --mask-root data/irregular_mask/testing_mask_dataset

The format (JSON lines, canonical, portable relative paths) is described in
``spn_mm/datasets/manifest_utils.py`` and ``docs/datasets.md``. The manifest
hash printed at the end is what every evaluation prints with its results.
"""
import argparse
import os
import os.path as osp
import sys


from spn_mm.datasets.manifest_utils import (  # noqa: E402
    build_manifest, pair_indices, verify_manifest, write_manifest)
from spn_mm.datasets.mask_utils import (  # noqa: E402
    MASK_EXTENSIONS, list_mask_files)
from spn_mm.evaluation.buckets import DEFAULT_BUCKET_EDGES  # noqa: E402


def read_list(path: str, limit: int = None) -> list:
    """First token of every non-empty, non-comment line."""
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                out.append(line.split()[0].lstrip('/'))
            if limit is not None and len(out) >= limit:
                break
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pair test images with masks from a seed and write a '
        'checksummed JSON-lines manifest, or --verify one.')
    parser.add_argument('--img-root', required=True, help='image root')
    parser.add_argument(
        '--img-list',
        help='text file of test images (relative to --img-root), in test '
        'order; default: sorted scan of --img-root')
    parser.add_argument(
        '--num-images',
        type=int,
        help='keep only the first N images (e.g. 12000 for Places2/CelebA)')
    parser.add_argument('--mask-root', required=True, help='mask root')
    parser.add_argument(
        '--mask-list',
        help='text file of the mask pool (relative to --mask-root); '
        'default: sorted scan of --mask-root')
    parser.add_argument(
        '--size',
        type=int,
        nargs='+',
        default=[256],
        help='H [W] the test pipeline resizes to; hole ratios are measured '
        'after a nearest resize to it (default 256)')
    parser.add_argument('--seed', type=int, default=0, help='pairing seed')
    parser.add_argument(
        '--buckets',
        type=float,
        nargs='+',
        default=list(DEFAULT_BUCKET_EDGES),
        help='bucket edges (default 0 0.2 0.4 0.6)')
    parser.add_argument(
        '--threshold',
        type=int,
        default=127,
        help='mask binarisation threshold: value > threshold is a hole')
    parser.add_argument(
        '--invert', action='store_true', help='holes are black in the files')
    parser.add_argument('--dataset', default='', help='dataset name')
    parser.add_argument('--out', help='output manifest (.jsonl)')
    parser.add_argument(
        '--unused-masks-out',
        help='also write the masks NOT used by the manifest (a training '
        'list for the disjoint-mask protocol)')
    parser.add_argument(
        '--verify', metavar='MANIFEST', help='verify this manifest instead')
    parser.add_argument(
        '--no-ratio-check',
        action='store_true',
        help='with --verify: only check checksums')
    args = parser.parse_args(argv)
    if args.verify is None and args.out is None:
        parser.error('give --out to make a manifest or --verify MANIFEST')
    if len(args.size) not in (1, 2):
        parser.error('--size takes H or H W')
    return args


def _progress(done: int, total: int) -> None:
    if done == total or done % 1000 == 0:
        print(f'  {done}/{total}', file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.verify:
        report = verify_manifest(args.verify, args.img_root, args.mask_root,
                                 not args.no_ratio_check)
        print(f'records: {report["num_records"]}')
        for key in ('missing', 'img_sha1_mismatch', 'mask_sha1_mismatch',
                    'ratio_mismatch'):
            items = report[key]
            print(f'{key}: {len(items)}' +
                  (f' (first: {items[:5]})' if items else ''))
        print(f'manifest_hash: {report["manifest_hash"]}')
        print('OK' if report['ok'] else 'FAILED')
        return 0 if report['ok'] else 1

    if args.img_list:
        imgs = read_list(args.img_list, args.num_images)
    else:
        imgs = list_mask_files(args.img_root)  # any image extension
        imgs = [p for p in imgs if p.endswith(MASK_EXTENSIONS)]
        if args.num_images is not None:
            imgs = imgs[:args.num_images]
    if args.num_images is not None and len(imgs) < args.num_images:
        print(
            f'warning: asked for {args.num_images} images, found '
            f'{len(imgs)}',
            file=sys.stderr)
    masks = list_mask_files(args.mask_root, args.mask_list)
    size = (args.size[0], args.size[-1])
    print(
        f'pairing {len(imgs)} images with a pool of {len(masks)} masks '
        f'(seed {args.seed}, size {size[0]}x{size[1]})',
        file=sys.stderr)
    header, records = build_manifest(
        args.img_root,
        imgs,
        args.mask_root,
        masks,
        size=size,
        seed=args.seed,
        bucket_edges=args.buckets,
        threshold=args.threshold,
        invert=args.invert,
        dataset=args.dataset,
        progress=_progress)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    mhash = write_manifest(args.out, header, records)
    if args.unused_masks_out:
        used = set(pair_indices(len(imgs), len(masks), args.seed))
        with open(args.unused_masks_out, 'w', encoding='utf-8') as f:
            for i, m in enumerate(masks):
                if i not in used:
                    f.write(m + '\n')
        print(f'unused masks: {len(masks) - len(used)} -> '
              f'{args.unused_masks_out}')
    print(f'wrote {len(records)} pairs to {args.out}')
    print('bucket counts: ' +
          ', '.join(f'{k}: {v}' for k, v in header['bucket_counts'].items()))
    if header['with_replacement']:
        print('note: more images than masks, masks are reused (each at most '
              f'{-(-len(imgs) // len(masks))} times)')
    print(f'manifest_hash: {mhash}')
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
