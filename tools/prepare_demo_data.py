"""Build the embedded demo dataset from photos that scikit-image ships.

No download: scikit-image bundles a dozen colour photographs (and a few
grey ones), matplotlib one more. Train and val use **different photos** (the
stereo pair ``motorcycle_left``/``_right`` is one scene and both go to val;
``skimage.data.cat()`` is ``chelsea()``, so it is never a train photo)::

    train: astronaut, coffee, rocket, hubble_deep_field,
           immunohistochemistry, retina, grace_hopper (matplotlib), and the
           grey camera, brick, gravel (as 3 equal channels)
                                                 (random crops, augmented)
    val:   chelsea (cat), motorcycle_left, motorcycle_right (fixed crops)

``tests/test_tools/test_demo.py`` checks that no 8x8 patch of a val photo
occurs in a train photo.

Output (``--out``, default ``data/demo``)::

    train/xxxx.png            random multi-scale crops, resized to --size
    val/xxxx.png              deterministic grid crops of the val photos
    val_masks/xxxx.png        procedural irregular masks (255 = hole), hole
                              ratios spread evenly over 0-0.6
    meta/train.txt, meta/val.txt
    meta/eval_manifest.jsonl  seeded image-mask pairs (sha1, ratio, bucket)
    demo_info.json            what was built (sizes, counts, manifest hash)

Idempotent: rerunning with the same arguments is a no-op (checked through
``demo_info.json``); ``--force`` rebuilds.

Usage::

    python tools/prepare_demo_data.py [--out data/demo] [--size 64]
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
from typing import Dict, List

import cv2
import numpy as np


TRAIN_PHOTOS = ('astronaut', 'coffee', 'rocket', 'hubble_deep_field',
                'immunohistochemistry', 'retina', 'grace_hopper', 'camera',
                'brick', 'gravel')
VAL_PHOTOS = ('chelsea', 'motorcycle_left', 'motorcycle_right')
#: grey photos, used as RGB with three equal channels
GREY_PHOTOS = ('camera', 'brick', 'gravel')
VERSION = 2


def load_photo(name: str) -> np.ndarray:
    """An RGB uint8 photo bundled with scikit-image (``grace_hopper``:
    matplotlib's sample photo)."""
    import skimage.data as skd
    if name == 'grace_hopper':
        from matplotlib import cbook
        path = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    elif name in ('motorcycle_left', 'motorcycle_right'):
        left, right, _ = skd.stereo_motorcycle()
        img = left if name == 'motorcycle_left' else right
    else:
        img = getattr(skd, name)()
    if name in GREY_PHOTOS and img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f'skimage.data.{name} is not a colour photo')
    return np.ascontiguousarray(img[..., :3])


def random_crops(img: np.ndarray, n: int, size: int,
                 rng: np.random.Generator) -> List[np.ndarray]:
    """Random square crops (side 20-60% of the short edge) resized to size,
    with random flips and mild colour jitter (train augmentation)."""
    h, w = img.shape[:2]
    short = min(h, w)
    out = []
    for _ in range(n):
        side = int(rng.uniform(0.2, 0.6) * short)
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        crop = img[y:y + side, x:x + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        gain = rng.uniform(0.85, 1.15, size=3)
        crop = np.clip(crop.astype(np.float32) * gain, 0, 255)
        out.append(crop.astype(np.uint8))
    return out


def grid_crops(img: np.ndarray, per_side: int, size: int) -> List[np.ndarray]:
    """Deterministic overlapping square crops on a grid (val)."""
    h, w = img.shape[:2]
    side = int(0.45 * min(h, w))
    ys = np.linspace(0, h - side, per_side).astype(int)
    xs = np.linspace(0, w - side, per_side).astype(int)
    return [
        cv2.resize(img[y:y + side, x:x + side], (size, size),
                   interpolation=cv2.INTER_AREA) for y in ys for x in xs
    ]


def make_masks(n: int, size: int, seed: int) -> List[np.ndarray]:
    """``n`` procedural masks whose ratios cover 0-0.6 evenly."""
    from spn_mm.datasets.transforms.masks import generate_irregular_mask
    rng = np.random.default_rng(seed)
    edges = np.linspace(0.02, 0.6, n + 1)
    masks = []
    for i in range(n):
        lo, hi = float(edges[i]), float(edges[i + 1])
        mask = generate_irregular_mask((size, size), (lo, hi), rng=rng)
        masks.append(mask[..., 0] * 255)
    return masks


def write_images(folder: str, imgs: List[np.ndarray], rgb: bool = True
                 ) -> List[str]:
    os.makedirs(folder, exist_ok=True)
    names = []
    for i, img in enumerate(imgs):
        name = f'{i:04d}.png'
        out = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if rgb else img
        cv2.imwrite(osp.join(folder, name), out)
        names.append(name)
    return names


def build(out: str, size: int, train_per_photo: int, val_per_side: int,
          seed: int) -> Dict:
    """Write the dataset into ``out`` and return its info dict."""
    from spn_mm.datasets.manifest_utils import build_manifest, write_manifest
    rng = np.random.default_rng(seed)
    train = []
    for name in TRAIN_PHOTOS:
        train += random_crops(load_photo(name), train_per_photo, size, rng)
    val = []
    for name in VAL_PHOTOS:
        val += grid_crops(load_photo(name), val_per_side, size)
    train_names = write_images(osp.join(out, 'train'), train)
    val_names = write_images(osp.join(out, 'val'), val)
    mask_names = write_images(
        osp.join(out, 'val_masks'), make_masks(len(val), size, seed + 1),
        rgb=False)
    os.makedirs(osp.join(out, 'meta'), exist_ok=True)
    for split, names in (('train', train_names), ('val', val_names)):
        with open(osp.join(out, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
    header, records = build_manifest(
        osp.join(out, 'val'), val_names, osp.join(out, 'val_masks'),
        mask_names, size=(size, size), seed=seed, dataset='spn_demo')
    manifest = osp.join(out, 'meta', 'eval_manifest.jsonl')
    mhash = write_manifest(manifest, header, records)
    return dict(
        version=VERSION,
        size=size,
        seed=seed,
        train_per_photo=train_per_photo,
        val_per_side=val_per_side,
        train_photos=list(TRAIN_PHOTOS),
        val_photos=list(VAL_PHOTOS),
        num_train=len(train_names),
        num_val=len(val_names),
        manifest_hash=mhash)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--size', type=int, default=64, help='crop size')
    parser.add_argument('--train-per-photo', type=int, default=80)
    parser.add_argument('--val-per-side', type=int, default=4,
                        help='val crops per photo = this squared')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true', help='rebuild')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    info_path = osp.join(args.out, 'demo_info.json')
    wanted = dict(version=VERSION, size=args.size, seed=args.seed,
                  train_per_photo=args.train_per_photo,
                  val_per_side=args.val_per_side)
    if not args.force and osp.isfile(info_path):
        with open(info_path) as f:
            info = json.load(f)
        if all(info.get(k) == v for k, v in wanted.items()) and osp.isfile(
                osp.join(args.out, 'meta', 'eval_manifest.jsonl')):
            print(f'demo data up to date in {args.out} '
                  f"({info['num_train']} train / {info['num_val']} val, "
                  f"manifest {info['manifest_hash']})")
            return 0
    if osp.isdir(args.out):
        shutil.rmtree(args.out)
    info = build(args.out, args.size, args.train_per_photo,
                 args.val_per_side, args.seed)
    with open(info_path, 'w') as f:
        json.dump(info, f, indent=2)
    print(f"demo data written to {args.out}: {info['num_train']} train / "
          f"{info['num_val']} val crops at {args.size}px, manifest "
          f"{info['manifest_hash']}")
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
