"""Figures of what SPN learned (paper Fig. 10-12) from
:meth:`SPNInpainter.extract_features` outputs.

Every feature map is cropped to the un-padded image region, clustered with
K-means (:func:`spn_mm.visualization.kmeans_labels`, K=8 by default) and
coloured so that colours are **consistent within the figure**:

* prior pyramid (Fig. 10): each level is matched to the next coarser one,
  the coarsest level (S_prior^L) keeps its canonical colours;
* teacher features: each matched to the prior of the same scale;
* F_enc^L / F_dec^L (Fig. 12): matched to S_prior^L;
* sampled priors (Fig. 11): the finest prior of sample k matched to the
  finest prior of sample 0.
"""
import math
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .prior_maps import colorize_labels, kmeans_labels, match_labels

Panel = Tuple[str, np.ndarray]  # title, (h, w, 3) uint8 RGB


def _crop_valid(feat: torch.Tensor, net_hw: Tuple[int, int],
                valid_hw: Tuple[int, int]) -> torch.Tensor:
    """Crop (1, C, h_l, w_l) features to the un-padded region."""
    h_l, w_l = feat.shape[-2:]
    vh = max(1, math.ceil(valid_hw[0] * h_l / net_hw[0]))
    vw = max(1, math.ceil(valid_hw[1] * w_l / net_hw[1]))
    return feat[0, :, :vh, :vw]


def _show(img: np.ndarray, size: Tuple[int, int], nearest: bool) -> np.ndarray:
    h, w = size
    if img.shape[:2] == (h, w):
        return img
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(img, (w, h), interpolation=interp)


class _Clusterer:
    """K-means labels with figure-wide colour matching."""

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.seed = seed

    def labels(self,
               feat: torch.Tensor,
               reference: np.ndarray = None) -> np.ndarray:
        lab = kmeans_labels(feat, k=self.k, seed=self.seed)
        if reference is not None:
            lab = match_labels(lab, reference, self.k)
        return lab

    def colour(self, labels: np.ndarray) -> np.ndarray:
        return colorize_labels(labels, self.k)


def prior_figure_rows(features: Dict,
                      k: int = 8,
                      seed: int = 0) -> List[Tuple[str, List[Panel]]]:
    """Build the figure rows.

    Args:
        features (dict): Output of :meth:`SPNInpainter.extract_features`.
        k (int): K-means clusters. Default: 8 (paper).
        seed (int): K-means seed. Default: 0.

    Returns:
        list[tuple[str, list[Panel]]]: Rows ``(row title, panels)``; panel
        images are shown at the un-padded network resolution.
    """
    net_hw = tuple(features['image'].shape[:2])
    valid = tuple(features['valid'])
    show = valid
    km = _Clusterer(k, seed)

    def crop(feat):
        return _crop_valid(feat, net_hw, valid)

    def size_tag(feat):
        return f'{feat.shape[-2]}x{feat.shape[-1]}'

    img = features['image'][:valid[0], :valid[1]]
    mask = features['mask'][:valid[0], :valid[1]]
    masked = img.copy()
    masked[mask] = 255
    rows = []
    outs = [o[:valid[0], :valid[1]] for o in features['outputs']]
    rows.append(('input / output', [('masked input', masked),
                                    ('output', outs[0])]))

    # Fig. 10: prior pyramid, coarse -> fine, each matched to the coarser
    priors = features['priors'][0]  # fine -> coarse
    prior_labels = [None] * len(priors)
    ref = None
    for lvl in range(len(priors) - 1, -1, -1):
        prior_labels[lvl] = km.labels(crop(priors[lvl]), ref)
        ref = prior_labels[lvl]
    rows.append(('prior pyramid S^l (K-means)',
                 [(f'S prior {size_tag(priors[lvl])}',
                   _show(km.colour(prior_labels[lvl]), show, True))
                  for lvl in range(len(priors) - 1, -1, -1)]))

    teacher = features.get('teacher')
    if teacher:
        panels = []
        offset = len(teacher) - len(priors)
        for lvl in range(len(teacher) - 1, -1, -1):
            p = lvl - offset
            reference = prior_labels[p] if 0 <= p < len(priors) else None
            lab = km.labels(crop(teacher[lvl]), reference)
            panels.append((f'teacher {size_tag(teacher[lvl])}',
                           _show(km.colour(lab), show, True)))
        rows.append(('teacher features (K-means)', panels))

    # Fig. 12: F_enc^L and F_dec^L next to S_prior^L
    coarse = prior_labels[-1]
    enc = km.labels(crop(features['feat_enc']), coarse)
    dec = km.labels(crop(features['feat_dec'][0]), coarse)
    rows.append(('image features at the coarsest scale', [
        ('F_enc^L', _show(km.colour(enc), show, True)),
        ('F_dec^L', _show(km.colour(dec), show, True)),
        ('S_prior^L', _show(km.colour(coarse), show, True)),
    ]))

    # Fig. 11: sampled priors (finest level) and their outputs
    if features['num_samples'] > 1:
        first = prior_labels[0]
        for s in range(features['num_samples']):
            fine = features['priors'][s][0]
            lab = first if s == 0 else km.labels(crop(fine), first)
            rows.append((f'sample {s}', [
                (f'S prior {size_tag(fine)}',
                 _show(km.colour(lab), show, True)),
                ('output', outs[s]),
            ]))
    return rows


def compose_figure(rows: Sequence[Tuple[str, Sequence[Panel]]],
                   gap: int = 4) -> np.ndarray:
    """Tile rows of titled panels into one RGB image.

    Args:
        rows (Sequence): ``(row title, [(panel title, image), ...])``.
        gap (int): Pixels between panels. Default: 4.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB on white.
    """
    font = ImageFont.load_default()
    title_h = 14
    row_imgs = []
    for title, panels in rows:
        ph = max(p.shape[0] for _, p in panels)
        probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
        cols = [
            max(p.shape[1],
                int(probe.textlength(name, font=font)) + 2)
            for name, p in panels
        ]
        width = max(
            sum(cols) + gap * (len(panels) + 1),
            int(probe.textlength(title, font=font)) + 2 * gap)
        canvas = Image.new('RGB', (width, ph + 2 * title_h + gap), 'white')
        draw = ImageDraw.Draw(canvas)
        draw.text((gap, 1), title, fill=(0, 0, 0), font=font)
        x = gap
        for (name, panel), col in zip(panels, cols):
            draw.text((x, title_h + 1), name, fill=(60, 60, 60), font=font)
            canvas.paste(Image.fromarray(panel), (x, 2 * title_h))
            x += col + gap
        row_imgs.append(np.array(canvas))
    width = max(r.shape[1] for r in row_imgs)
    padded = [
        np.pad(
            r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
        for r in row_imgs
    ]
    return np.concatenate(padded, axis=0)
