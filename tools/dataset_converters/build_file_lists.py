"""Build the file lists the SPN dataset configs read, from each dataset's
official archive layout (see docs/datasets.md).

    T=tools/dataset_converters/build_file_lists.py
    python $T places2 --root data/places2
    python $T celeba --root data/celeba
    python $T paris --root data/paris_streetview
    python $T celebahq --root data/celebahq
    python $T masks --root data/irregular_mask/testing_mask_dataset

Outputs (under ``<root>/meta/`` unless ``--out-dir``), one relative path per
line:

* places2: ``train.txt`` (relative to ``data_256``; from the official
  ``places365_train_standard.txt`` when present, else a sorted scan) and
  ``test_first12000.txt`` (the first ``--num-test`` validation images in
  official order, relative to ``val_256``).
* celeba: ``train.txt`` / ``val.txt`` / ``test.txt`` from the official
  ``list_eval_partition.txt`` (0/1/2) and ``test_first12000.txt``.
* paris: ``train.txt`` (``paris_train_original``) and ``test.txt``
  (``paris_eval_gt``).
* celebahq: ``all.txt`` (``CelebA-HQ-img``); split it with
  ``split_celebahq.py``.
* masks: ``masks_all.txt`` plus ``masks_<lo>-<hi>.txt`` per measured
  hole-ratio group (``--groups``, after a nearest resize to ``--size``).
"""
import argparse
import os
import os.path as osp
import re
import sys
from typing import List, Optional

IMG_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.JPG', '.JPEG', '.PNG', '.BMP')


def natural_key(path: str) -> list:
    """Sort key that orders ``2.jpg`` before ``10.jpg``."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', path)]


def scan(folder: str, recursive: bool = True) -> List[str]:
    """Image files under ``folder`` (relative, '/'-joined, natural order)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder {folder!r} does not exist')
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for fn in filenames:
            if fn.endswith(IMG_EXT):
                rel = osp.relpath(osp.join(dirpath, fn), folder)
                out.append(rel.replace(os.sep, '/'))
        if not recursive:
            break
    return sorted(out, key=natural_key)


def read_first_tokens(path: str) -> List[str]:
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                out.append(line.split()[0].lstrip('/'))
    return out


def write_list(path: str, items: List[str]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        for it in items:
            f.write(it + '\n')
    print(f'{path}: {len(items)} entries')


def find_first(root: str, names: List[str]) -> Optional[str]:
    for n in names:
        p = osp.join(root, n)
        if osp.isfile(p):
            return p
    return None


def build_places2(root: str, out_dir: str, num_test: int) -> None:
    train_src = find_first(root, [
        'meta/places365_train_standard.txt', 'places365_train_standard.txt',
        'filelist_places365-standard/places365_train_standard.txt'
    ])
    if train_src:
        train = read_first_tokens(train_src)
    elif osp.isdir(osp.join(root, 'data_256')):
        train = scan(osp.join(root, 'data_256'))
    else:
        train = []
        print(
            'places2: no data_256/ and no places365_train_standard.txt; '
            'train list skipped',
            file=sys.stderr)
    if train:
        write_list(osp.join(out_dir, 'train.txt'), train)
    val_src = find_first(root, [
        'meta/places365_val.txt', 'places365_val.txt',
        'filelist_places365-standard/places365_val.txt'
    ])
    val = read_first_tokens(val_src) if val_src else scan(
        osp.join(root, 'val_256'), recursive=False)
    write_list(osp.join(out_dir, f'test_first{num_test}.txt'), val[:num_test])


def build_celeba(root: str, out_dir: str, num_test: int) -> None:
    part = find_first(root, [
        'list_eval_partition.txt', 'Eval/list_eval_partition.txt',
        'meta/list_eval_partition.txt'
    ])
    if part is None:
        raise FileNotFoundError(
            f'celeba: list_eval_partition.txt not found under {root!r}')
    splits = {'0': [], '1': [], '2': []}
    with open(part, encoding='utf-8') as f:
        for line in f:
            tok = line.split()
            if len(tok) == 2 and tok[1] in splits:
                splits[tok[1]].append(tok[0])
    write_list(osp.join(out_dir, 'train.txt'), splits['0'])
    write_list(osp.join(out_dir, 'val.txt'), splits['1'])
    write_list(osp.join(out_dir, 'test.txt'), splits['2'])
    write_list(
        osp.join(out_dir, f'test_first{num_test}.txt'), splits['2'][:num_test])


def build_paris(root: str, out_dir: str) -> None:
    write_list(
        osp.join(out_dir, 'train.txt'),
        scan(osp.join(root, 'paris_train_original')))
    write_list(
        osp.join(out_dir, 'test.txt'), scan(osp.join(root, 'paris_eval_gt')))


def build_celebahq(root: str, out_dir: str, img_dir: str) -> None:
    write_list(osp.join(out_dir, 'all.txt'), scan(osp.join(root, img_dir)))


def build_masks(root: str, out_dir: str, size: int,
                groups: List[float]) -> None:
    from spn_mm.datasets.mask_utils import read_mask
    from spn_mm.evaluation.buckets import assign_bucket, bucket_names
    files = scan(root)
    write_list(osp.join(out_dir, 'masks_all.txt'), files)
    lists = {n: [] for n in bucket_names(groups)}
    for f in files:
        ratio = float(read_mask(osp.join(root, f), (size, size)).mean())
        b = assign_bucket(ratio, groups)
        if b in lists:
            lists[b].append(f)
    for name, items in lists.items():
        write_list(osp.join(out_dir, f'masks_{name}.txt'), items)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'dataset', choices=['places2', 'celeba', 'paris', 'celebahq', 'masks'])
    parser.add_argument('--root', required=True, help='dataset root')
    parser.add_argument(
        '--out-dir', help='where to write the lists (default <root>/meta)')
    parser.add_argument(
        '--num-test',
        type=int,
        default=12000,
        help='places2/celeba: keep the first N test images (default 12000)')
    parser.add_argument(
        '--img-dir',
        default='CelebA-HQ-img',
        help='celebahq: image folder under --root')
    parser.add_argument(
        '--size', type=int, default=256, help='masks: measuring size')
    parser.add_argument(
        '--groups',
        type=float,
        nargs='+',
        default=[0, .1, .2, .3, .4, .5, .6],
        help='masks: ratio group edges (default the NVIDIA 10%% groups)')
    args = parser.parse_args(argv)
    out_dir = args.out_dir or osp.join(args.root, 'meta')
    if args.dataset == 'places2':
        build_places2(args.root, out_dir, args.num_test)
    elif args.dataset == 'celeba':
        build_celeba(args.root, out_dir, args.num_test)
    elif args.dataset == 'paris':
        build_paris(args.root, out_dir)
    elif args.dataset == 'celebahq':
        build_celebahq(args.root, out_dir, args.img_dir)
    else:
        build_masks(args.root, out_dir, args.size, args.groups)
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
