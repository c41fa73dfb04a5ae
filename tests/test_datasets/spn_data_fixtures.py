"""Tiny on-disk datasets in the documented layouts (docs/datasets.md).

Images are crops of scikit-image's bundled photographs, so the metric tests
run on real photographs; masks come from the procedural generator.
"""
import os
import os.path as osp
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from spn_mm.datasets.transforms.masks import generate_irregular_mask


def photos() -> List[np.ndarray]:
    """scikit-image's bundled RGB photographs (uint8, HWC, RGB)."""
    from skimage import data
    return [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]


def photo(i: int, size: Tuple[int, int]) -> np.ndarray:
    """A (H, W, 3) RGB crop+resize of photograph ``i % 4``."""
    imgs = photos()
    img = imgs[i % len(imgs)]
    h, w = img.shape[:2]
    # a different crop for every i so images differ
    off = (i // len(imgs)) * 17
    img = img[off % (h // 4):, off % (w // 4):]
    return cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def write_rgb(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def write_masks(folder: str,
                n: int,
                size: Tuple[int, int] = (300, 300),
                ranges: Sequence[Tuple[float,
                                       float]] = ((0.02, 0.18), (0.22, 0.38),
                                                  (0.42, 0.58)),
                seed: int = 0) -> List[str]:
    """``n`` NVIDIA-like masks (255 = hole) cycling through ``ranges``."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = []
    for i in range(n):
        m = generate_irregular_mask(size, ranges[i % len(ranges)], rng)
        name = f'{i:05d}.png'
        cv2.imwrite(osp.join(folder, name), m[..., 0] * 255)
        names.append(name)
    return names


def make_all_layouts(root: str, n_masks: int = 12) -> str:
    """Write every documented dataset layout under ``root/data``.

    Returns:
        str: ``root`` (run the configs with ``root`` as working directory).
    """
    d = osp.join(root, 'data')
    # NVIDIA irregular masks
    write_masks(osp.join(d, 'irregular_mask', 'testing_mask_dataset'), n_masks)
    # Places2 (Places365-Standard small images)
    p = osp.join(d, 'places2')
    train = [
        'a/airfield/00000001.jpg', 'a/airfield/00000002.jpg',
        'b/bakery/00000001.jpg'
    ]
    for i, rel in enumerate(train):
        write_rgb(osp.join(p, 'data_256', rel), photo(i, (256, 256)))
    os.makedirs(osp.join(p, 'meta'), exist_ok=True)
    with open(osp.join(p, 'meta', 'places365_train_standard.txt'), 'w') as f:
        for i, rel in enumerate(train):
            f.write(f'/{rel} {i}\n')
    with open(osp.join(p, 'meta', 'places365_val.txt'), 'w') as f:
        for i in range(6):
            name = f'Places365_val_{i + 1:08d}.jpg'
            write_rgb(osp.join(p, 'val_256', name), photo(i, (256, 256)))
            f.write(f'{name} {i}\n')
    # CelebA (aligned 178x218) + official partition file
    c = osp.join(d, 'celeba')
    os.makedirs(c, exist_ok=True)
    with open(osp.join(c, 'list_eval_partition.txt'), 'w') as f:
        for i in range(8):
            name = f'{i + 1:06d}.jpg'
            write_rgb(
                osp.join(c, 'img_align_celeba', name), photo(i, (218, 178)))
            f.write(f'{name} {0 if i < 4 else (1 if i < 5 else 2)}\n')
    # Paris StreetView (936x537 originals, scaled down here)
    s = osp.join(d, 'paris_streetview')
    for i in range(3):
        write_rgb(
            osp.join(s, 'paris_train_original', f'48.84_2.34_{i}.JPG'),
            photo(i, (134, 234)))
    for i in range(4):
        write_rgb(
            osp.join(s, 'paris_eval_gt', f'{i + 1:03d}_im.png'),
            photo(i + 3, (134, 234)))
    # CelebA-HQ (1024x1024 originals, scaled down here)
    h = osp.join(d, 'celebahq')
    for i in range(10):
        write_rgb(
            osp.join(h, 'CelebA-HQ-img', f'{i}.jpg'), photo(i, (128, 128)))
    return root
