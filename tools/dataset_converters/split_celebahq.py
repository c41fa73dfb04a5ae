"""Seeded train/test split of CelebA-HQ (no official split was published).

    python tools/dataset_converters/split_celebahq.py --root data/celebahq \
        --num-test 2800 --seed 0

Reads ``<root>/meta/all.txt`` (``build_file_lists.py celebahq``) or scans
``<root>/<img-dir>``, draws ``--num-test`` test images with
``np.random.RandomState(seed).permutation`` (stable across NumPy versions)
and writes ``train.txt`` (the rest, or the first ``--num-train`` of them) and
``test.txt`` in natural order to ``<root>/meta``. With the 30,000 images this
gives 27,200 / 2,800.

NOTE: numbers measured on different splits are not comparable; report the
seed and the printed list hashes with any result.
"""
import argparse
import hashlib
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from build_file_lists import (
    natural_key,
    read_first_tokens,  # noqa: E402
    scan,
    write_list)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Seeded CelebA-HQ split')
    parser.add_argument('--root', required=True, help='CelebA-HQ root')
    parser.add_argument(
        '--list', help='image list (default <root>/meta/all.txt or a scan)')
    parser.add_argument('--img-dir', default='CelebA-HQ-img')
    parser.add_argument('--num-test', type=int, default=2800)
    parser.add_argument(
        '--num-train',
        type=int,
        help='cap the training list (default: every non-test image)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', help='default <root>/meta')
    args = parser.parse_args(argv)

    list_path = args.list or osp.join(args.root, 'meta', 'all.txt')
    if osp.isfile(list_path):
        files = read_first_tokens(list_path)
    else:
        files = scan(osp.join(args.root, args.img_dir))
    files = sorted(set(files), key=natural_key)
    if args.num_test <= 0 or args.num_test >= len(files):
        parser.error(f'--num-test must be in (0, {len(files)}), got '
                     f'{args.num_test}')
    perm = np.random.RandomState(args.seed).permutation(len(files))
    test_idx = set(int(i) for i in perm[:args.num_test])
    test = [f for i, f in enumerate(files) if i in test_idx]
    train = [f for i, f in enumerate(files) if i not in test_idx]
    if args.num_train is not None:
        train = train[:args.num_train]
    out_dir = args.out_dir or osp.join(args.root, 'meta')
    write_list(osp.join(out_dir, 'train.txt'), train)
    write_list(osp.join(out_dir, 'test.txt'), test)
    for name, items in (('train', train), ('test', test)):
        digest = hashlib.sha1(
            ('\n'.join(items) + '\n').encode('utf-8')).hexdigest()
        print(f'{name}.txt sha1: {digest}')
    print(f'seed {args.seed}: {len(train)} train / {len(test)} test. Numbers '
          'on different CelebA-HQ splits are NOT comparable; report the seed '
          'and these hashes.')
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
