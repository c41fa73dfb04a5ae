"""Save the images a metric scored, so others can re-score them.

Layout of ``out_dir`` (``<idx>`` = manifest index, 6 digits, zero-padded;
the dataset's sample index when there is no manifest):

* ``pred/<idx>.png`` -- the scored prediction (best-of-K by PSNR for K > 1);
* ``samples/<idx>_k<j>.png`` -- sample ``j`` of ``K`` (only for K > 1);
* ``gt/<idx>.png`` -- the ground truth as scored (after the test pipeline);
* ``mask/<idx>.png`` -- the compositing mask x 255, rounded (255 = hole);
* ``per_image.csv`` and ``README.txt`` (settings), written by the metric.

PNGs are 8-bit RGB (grey for masks), lossless: ``pred``/``samples``/``gt``
hold exactly the uint8 images the scores were computed on. The settings go
into a sidecar ``README.txt`` rather than a comment line in the CSV, so any
CSV reader opens ``per_image.csv`` unchanged.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np

_QUANT = {
    'floor':
    'uint8 by truncation: floor(clip(x, 0, 255)) of the 0-255 '
    'float output (the official (x01 * 255).astype(uint8))',
    'round':
    'uint8 by rounding: round(clip(x, 0, 255))',
    None:
    'none: scores used the float images; the PNGs are '
    'round(clip(x, 0, 255)), so re-scores can differ slightly',
}
_MASK = {
    'model':
    'the binarised mask the model saw (mask file > threshold, 127 '
    'unless the manifest says otherwise; nearest-resized to the image)',
    None:
    'the raw mask file, no threshold: channel mean / 255 after a '
    'nearest resize (as the official evaluation composites)',
}


class PredictionWriter:
    """Write predictions, samples, ground truth and masks as PNG.

    Args:
        out_dir (str): Output folder (created).
    """

    def __init__(self, out_dir: str) -> None:
        if not out_dir:
            raise ValueError('save_images_dir: expected a folder path, got '
                             f'{out_dir!r}')
        self.out_dir = str(out_dir)

    @staticmethod
    def key(index: Optional[int]) -> str:
        """File stem of image ``index`` (zero-padded to 6 digits)."""
        if index is None:
            raise ValueError(
                'save_images_dir: the sample has no manifest_idx or '
                'sample_idx to name its files by')
        return f'{int(index):06d}'

    def _png(self, sub: str, name: str, img: np.ndarray) -> None:
        folder = osp.join(self.out_dir, sub)
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, name + '.png')
        # temp file + rename: with several processes the sampler's padding
        # can hand one image to two ranks; neither sees a half-written file
        tmp = osp.join(folder, f'.{name}.{os.getpid()}.png')
        if not cv2.imwrite(tmp, img):
            raise OSError(f'save_images_dir: cannot write {path!r}')
        os.replace(tmp, path)

    @staticmethod
    def _bgr_u8(img_chw: np.ndarray, order: str) -> np.ndarray:
        img = np.asarray(img_chw)
        if img.dtype != np.uint8:
            img = np.round(np.clip(img.astype(np.float64), 0,
                                   255)).astype(np.uint8)
        hwc = np.ascontiguousarray(np.transpose(img, (1, 2, 0)))
        return hwc if order == 'BGR' else np.ascontiguousarray(hwc[..., ::-1])

    def write(self, index: Optional[int], samples: Sequence[np.ndarray],
              best: int, gt: np.ndarray, mask: np.ndarray, order: str) -> None:
        """Write one image's files.

        Args:
            index (int): Manifest (or sample) index.
            samples (list[np.ndarray]): K (3, H, W) scored images, 0-255.
            best (int): Index of the scored (best-of-K) sample.
            gt (np.ndarray): (3, H, W) scored ground truth, 0-255.
            mask (np.ndarray): (1, H, W) or (H, W) compositing mask in
                [0, 1], 1 = hole.
            order (str): Channel order of the images, 'BGR' or 'RGB'.
        """
        name = self.key(index)
        self._png('pred', name, self._bgr_u8(samples[best], order))
        if len(samples) > 1:
            for j, s in enumerate(samples):
                self._png('samples', f'{name}_k{j}', self._bgr_u8(s, order))
        self._png('gt', name, self._bgr_u8(gt, order))
        m = np.asarray(mask, dtype=np.float64).reshape(gt.shape[-2:])
        self._png('mask', name, np.round(m * 255).astype(np.uint8))

    def write_readme(self, settings: dict, k: int) -> str:
        """Write ``README.txt`` describing the files and settings.

        Args:
            settings (dict): The metric's settings (``compat``,
                ``composite``, ``mask_threshold``, ``quantize``,
                ``manifest_hash``, ...).
            k (int): Samples per input.

        Returns:
            str: The README path.
        """
        os.makedirs(self.out_dir, exist_ok=True)
        comp = settings.get('composite')
        lines = [
            'Images scored by SPNInpaintingMetric (spn_mm).',
            f'dataset: {settings.get("dataset")}  manifest_hash: '
            f'{settings.get("manifest_hash")}  images: '
            f'{settings.get("num_images")}  samples per input (K): {k}',
            f'compat: {settings.get("compat")}',
            'composite: ' + ('pred * M + gt * (1 - M), M = compositing mask'
                             if comp else 'no (the model output as is)'),
            'compositing mask M: ' + _MASK[settings.get('mask_threshold')],
            'quantisation: ' + _QUANT[settings.get('quantize')],
            '',
            'Files (<idx> = manifest index, 6 digits; sample index without '
            'a manifest):',
            '  pred/<idx>.png        the scored prediction' +
            (' (best-of-K by PSNR: sample `best` of per_image.csv)'
             if k > 1 else ''),
        ]
        if k > 1:
            lines.append('  samples/<idx>_k<j>.png  sample j = 0..K-1, '
                         'composited and quantised the same way')
        lines += [
            '  gt/<idx>.png          the ground truth as scored (after the '
            'test pipeline, quantised the same way)',
            '  mask/<idx>.png        M x 255, rounded (255 = hole)',
            '  per_image.csv         per-image scores (manifest_idx, paths, '
            'bucket, PSNR/SSIM/MAE of the scored sample, PSNR of every '
            'sample, LPIPS diversity)',
            'PNGs are 8-bit RGB, lossless. Re-score e.g. with '
            '`python -m pytorch_fid gt pred` or skimage on gt/ vs pred/.',
        ]
        path = osp.join(self.out_dir, 'README.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + '\n')
        return path
