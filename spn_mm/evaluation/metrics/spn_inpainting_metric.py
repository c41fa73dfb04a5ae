"""Mask-ratio-bucketed inpainting metric (MAE / PSNR / SSIM / FID / LPIPS).

Works in mmagic's ``MultiValLoop`` / ``MultiTestLoop`` (it implements
``prepare``, ``get_metric_sampler``, ``SAMPLER_MODE`` and ``sample_model``
like mmagic's sample-wise metrics, and ``evaluate()`` without ``size``) and
in mmengine's plain ``ValLoop`` / ``TestLoop`` (``evaluate(size)``).
"""
import logging
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from spn_mm.registry import METRICS
from ..aggregate import bucket_summary
from ..buckets import (ALL_BUCKET, DEFAULT_BUCKET_EDGES, assign_bucket,
                       bucket_names, check_bucket_edges)
from ..fid import FID_DIM, SPNFIDInception, fid_from_feature_lists
from ..inpainting_scores import MMagicScorer, chw_to_hwc
from ..inpainting_scores import composite as composite_img
from ..inpainting_scores import quantize as quantize_img
from ..inpainting_scores import read_raw_mask, spn_scores
from ..prediction_writer import PredictionWriter
from ..report import format_table, write_per_image_csv, write_summary
from ..lpips_diversity import (build_lpips, lpips_hole_diversity,
                               lpips_pairwise_diversity)

_META_KEYS = ('gt_path', 'mask_path', 'sample_idx', 'manifest_idx',
              'hole_ratio', 'bucket', 'manifest_hash')


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'expected a tensor or array, got {type(x)}')
    return x.detach().cpu()


@METRICS.register_module()
class SPNInpaintingMetric(BaseMetric):
    """MAE, PSNR, SSIM (and FID, LPIPS diversity) per mask-ratio bucket.

    One pass over the test set; every image is scored once and assigned to
    the bucket of its hole ratio, measured on the mask the model saw (the
    manifest's ratio is cross-checked when the sample carries it). Results
    are reported for every bucket and for ``All``, printed as a paper-style
    table (rows: metrics, columns: buckets) with the manifest hash, and
    saved as JSON and CSV (plus a per-image CSV).

    Inputs per data sample (as mmagic inpaintors return them in val/test):
    ``gt_img`` (3, H, W) 0-255, ``mask`` (1, H, W) 1 = hole and
    ``output.pred_img``: (3, H, W), or (K, 3, H, W) for K samples of a
    probabilistic model, float 0-255. In val/test mmagic's
    ``DataPreprocessor`` converts ``gt_img`` to BGR and ``destruct`` returns
    ``pred_img`` in BGR, so both arrive BGR even though the pipeline loads
    RGB; ``channel_order`` (default 'BGR', overridden by the sample's
    ``gt_img_output_channel_order`` when present) is only used to feed RGB to
    Inception / LPIPS -- PSNR, SSIM and MAE are channel-order invariant.

    Output keys (``<bucket>/<name>``, buckets e.g. ``0.0-0.2`` ... ``All``):
    ``count``, ``PSNR``, ``SSIM``, ``MAE``, ``PSNR_capped_count``, and with
    FID ``FID`` and ``FID_unreliable`` (1 when the bucket has fewer images
    than the 2048 feature dimensions: rank-deficient covariances, biased
    upwards; NaN below 2 images). With K > 1 samples, ``PSNR``/``SSIM``/
    ``MAE``/``FID`` are **best-of-K by PSNR** (SSIM/MAE/FID of that same
    sample, the paper's Table 2), plus ``*_meanK`` (mean over the K samples),
    ``FID_allK`` (all N*K samples against the N references), and when
    ``lpips_cfg`` is set ``LPIPS_div`` (mean pairwise standard LPIPS of the
    K composited images, ``lpips.LPIPS``'s number) and ``LPIPS_div_hole``
    (mean pairwise spatial LPIPS map averaged over hole pixels), and
    ``K``. ``manifest_hash`` (string) and, in smoke mode, ``FID_meaningless``
    are added too.

    Args:
        compat (str): 'spn' (official SPN evaluation, default) or 'mmagic'
            (mmagic's MAE(mask_key='mask')/PSNR/SSIM). See
            :mod:`spn_mm.evaluation.inpainting_scores`.
        bucket_edges (Sequence[float], optional): Hole-ratio edges; None
            takes the manifest's (dataset meta) or ``(0, .2, .4, .6)``.
            Buckets are ``[lo, hi)``, the last one ``[lo, hi]``.
        psnr_cap (float): PSNR above it (including inf for a perfect
            reconstruction) is replaced by it and counted in
            ``PSNR_capped_count``. Defaults to 100.
        quantize (str, optional): 'floor' (official truncation), 'round' or
            None (no quantisation). Defaults to 'floor' for 'spn', None for
            'mmagic'.
        composite (bool, optional): Re-composite ``pred * M + gt * (1 - M)``.
            Defaults to True for 'spn', False for 'mmagic' (mmagic's
            inpaintors already composite against the input).
        mask_threshold (str, optional): The compositing mask. 'model'
            (default): the binarised mask the model saw (the pipeline's
            threshold, 127 unless the manifest says otherwise). None: the
            raw mask file of the sample's ``mask_path``, no threshold
            (channel mean / 255, nearest-resized), exactly as the official
            evaluation composites; equal to 'model' for binary 0/255 masks,
            different on anti-aliased masks. Buckets always use the mask the
            model saw.
        mae_scaling (float, optional): Multiplier of MAE. Defaults to 1
            ('spn': a fraction, as the official code prints) or 100
            ('mmagic', as in mmagic's configs).
        gt_key (str): Ground-truth key. Defaults to 'gt_img'.
        pred_key (str): Prediction key inside ``output``. Defaults to
            'pred_img'.
        mask_key (str): Mask key. Defaults to 'mask'.
        channel_order (str): Order of gt/pred arriving here ('BGR' or 'RGB').
        fid_cfg (dict, optional): Enables FID: ``inception_path`` (local
            pytorch-fid ``pt_inception-2015-12-05-6726825d.pth``), ``smoke``
            (random weights, tests only), ``cache_dir`` (reference features
            cache, default ``~/.cache/spn_mm/fid``), ``use_cache`` (True),
            ``eps`` (1e-6). None (default) disables FID.
        lpips_cfg (dict, optional): Enables LPIPS diversity for K > 1:
            ``net`` ('alex'), ``backbone_path`` (local torchvision weights),
            ``linear_path`` (default: lpips' bundled file), ``smoke``.
        output_dir (str, optional): Where to save JSON/CSV. None: the
            runner's log dir (``<work_dir>/<timestamp>``, found through the
            current MMLogger's file handler); nothing is saved if there is
            none.
        save_results (bool): Save JSON/CSV. Defaults to True.
        save_images_dir (str, optional): Also write, per image, the scored
            prediction (composited, quantised), every one of K samples, the
            ground truth and the compositing mask as PNG named by manifest
            index, plus ``per_image.csv`` and a ``README.txt`` stating the
            compositing mask and quantisation (see
            :class:`PredictionWriter`). ``tools/test.py --save-images DIR``
            sets it.
        dataset_name (str, optional): Name for files/cache; None takes the
            dataset meta's ``dataset_name``.
        device (str, optional): Device of Inception/LPIPS; None: CUDA when
            available.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Key prefix (use one per dataloader in
            ``MultiTestLoop``).
    """

    SAMPLER_MODE = 'normal'
    sample_model = 'orig'
    default_prefix: Optional[str] = ''  # keys stay '<bucket>/<metric>'

    def __init__(self,
                 compat: str = 'spn',
                 bucket_edges: Optional[Sequence[float]] = None,
                 psnr_cap: float = 100.,
                 quantize: Optional[str] = 'default',
                 composite: Optional[bool] = None,
                 mask_threshold: Optional[str] = 'model',
                 mae_scaling: Optional[float] = None,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 mask_key: str = 'mask',
                 channel_order: str = 'BGR',
                 fid_cfg: Optional[dict] = None,
                 lpips_cfg: Optional[dict] = None,
                 output_dir: Optional[str] = None,
                 save_results: bool = True,
                 save_images_dir: Optional[str] = None,
                 dataset_name: Optional[str] = None,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if compat not in ('spn', 'mmagic'):
            raise ValueError(
                f"compat: expected 'spn' or 'mmagic', got {compat!r}")
        self.compat = compat
        self.bucket_edges = (None if bucket_edges is None else
                             check_bucket_edges(bucket_edges))
        if not psnr_cap > 0:
            raise ValueError(f'psnr_cap: expected > 0, got {psnr_cap}')
        self.psnr_cap = float(psnr_cap)
        if quantize == 'default':
            quantize = 'floor' if compat == 'spn' else None
        if quantize not in (None, 'floor', 'round'):
            raise ValueError("quantize: expected 'floor', 'round' or None, "
                             f'got {quantize!r}')
        if compat == 'spn' and quantize is None:
            raise ValueError("quantize: compat='spn' needs uint8 images "
                             "('floor' or 'round'), got None")
        self.quantize = quantize
        self.composite = (compat == 'spn') if composite is None else composite
        if mask_threshold not in ('model', None):
            raise ValueError("mask_threshold: expected 'model' (the binarised "
                             'mask the model saw) or None (the raw mask file, '
                             f'no threshold), got {mask_threshold!r}')
        self.mask_threshold = mask_threshold
        self.mae_scaling = float((1. if compat == 'spn' else 100.
                                  ) if mae_scaling is None else mae_scaling)
        self.gt_key, self.pred_key, self.mask_key = gt_key, pred_key, mask_key
        if channel_order.upper() not in ('BGR', 'RGB'):
            raise ValueError("channel_order: expected 'BGR' or 'RGB', got "
                             f'{channel_order!r}')
        self.channel_order = channel_order.upper()
        self.output_dir = output_dir
        self.save_results = save_results
        self.writer = (None if save_images_dir is None else PredictionWriter(
            save_images_dir))
        self.dataset_name = dataset_name
        self.device = torch.device(
            device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        self._mmagic_scorer = MMagicScorer() if compat == 'mmagic' else None

        # FID
        self.fid_cfg = None if fid_cfg is None else dict(fid_cfg)
        self.inception: Optional[SPNFIDInception] = None
        if self.fid_cfg is not None:
            unknown = set(self.fid_cfg) - {
                'inception_path', 'smoke', 'cache_dir', 'use_cache', 'eps'
            }
            if unknown:
                raise ValueError(f'fid_cfg: unknown keys {sorted(unknown)}')
            self.inception = SPNFIDInception(
                self.fid_cfg.get('inception_path'),
                smoke=self.fid_cfg.get('smoke', False)).to(self.device)
            if self.inception.smoke:
                print_log(
                    'SPNInpaintingMetric: FID smoke mode -- random Inception '
                    'weights, the FID values are MEANINGLESS (reported with '
                    'FID_meaningless=1).', 'current', logging.WARNING)
        # LPIPS
        self.lpips_cfg = None if lpips_cfg is None else dict(lpips_cfg)
        self.lpips: Optional[nn.Module] = None
        self.lpips_spatial: Optional[nn.Module] = None
        if self.lpips_cfg is not None:
            unknown = set(self.lpips_cfg) - {
                'net', 'backbone_path', 'linear_path', 'smoke'
            }
            if unknown:
                raise ValueError(f'lpips_cfg: unknown keys {sorted(unknown)}')
            self.lpips = build_lpips(**self.lpips_cfg).to(self.device)
            self.lpips_spatial = build_lpips(
                **self.lpips_cfg, spatial=True).to(self.device)
        self._real_cache: Optional[Dict[int, np.ndarray]] = None
        self._cache_checked = False
        self._warned: set = set()
        self.last_table: Optional[str] = None
        self.saved_files: List[str] = []

    # ------------------------------------------------------------------
    # mmagic loop API
    # ------------------------------------------------------------------
    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """Record the dataset size (mmagic loops call ``evaluate()`` with
        no size) and refuse a dataloader that drops the last batch."""
        self.size = len(dataloader.dataset)
        if getattr(dataloader, 'drop_last', False):
            raise ValueError(
                'SPNInpaintingMetric: the test dataloader has drop_last=True;'
                ' every test image must be evaluated (set drop_last=False)')
        if is_model_wrapper(module):
            module = module.module
        self.data_preprocessor = getattr(module, 'data_preprocessor', None)

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: list) -> DataLoader:
        """The normal sampler: the dataloader itself."""
        return dataloader

    def evaluate(self, size: Optional[int] = None) -> dict:
        """Collect results from all ranks and compute the metrics.

        Args:
            size (int, optional): Dataset size; None uses the size recorded
                by :meth:`prepare` (mmagic loops).
        """
        if size is None:
            size = getattr(self, 'size', None)
        if size is None:
            raise RuntimeError(
                'SPNInpaintingMetric.evaluate: no size given and prepare() '
                'was not called (use mmagic MultiTestLoop or pass size)')
        return super().evaluate(size)

    # ------------------------------------------------------------------
    # per batch
    # ------------------------------------------------------------------
    def _edges(self) -> tuple:
        if self.bucket_edges is not None:
            return self.bucket_edges
        meta = self.dataset_meta or {}
        edges = meta.get('bucket_edges')
        return check_bucket_edges(edges) if edges else DEFAULT_BUCKET_EDGES

    def _warn_once(self, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            print_log(msg, 'current', logging.WARNING)

    def _cache_path(self) -> Optional[str]:
        if self.inception is None or self.inception.smoke or \
                not self.fid_cfg.get('use_cache', True):
            return None
        meta = self.dataset_meta or {}
        mhash = meta.get('manifest_hash')
        if not mhash:
            return None
        name = self._name().replace('/', '_')
        cache_dir = osp.expanduser(
            self.fid_cfg.get('cache_dir', '~/.cache/spn_mm/fid'))
        return osp.join(
            cache_dir, f'{name}-manifest_{mhash[:16]}-inception_'
            f'{self.inception.weights_sha1[:16]}-real_feats.npz')

    def _load_cache(self) -> None:
        self._cache_checked = True
        path = self._cache_path()
        if path and osp.isfile(path):
            data = np.load(path)
            self._real_cache = {
                int(i): f
                for i, f in zip(data['idx'], data['features'])
            }
            print_log(
                f'SPNInpaintingMetric: reference FID features loaded '
                f'from {path}', 'current')

    def _to_rgb01(self, img_chw: np.ndarray, order: str) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(img_chw)).float() / 255.
        if order == 'BGR':
            t = t.flip(0)
        return t

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score every sample of a batch (one result entry per image)."""
        if self.inception is not None and not self._cache_checked:
            self._load_cache()
        edges = self._edges()
        fid_real, fid_fake, fid_slots = [], [], []
        for ds in data_samples:
            if not isinstance(ds, dict):
                ds = ds.to_dict()
            gt = _to_tensor(ds[self.gt_key]).double()
            output = ds.get('output', {})
            if not isinstance(output, dict):
                output = output.to_dict()
            if self.pred_key not in output:
                raise KeyError(f'SPNInpaintingMetric: data sample output has '
                               f'no {self.pred_key!r}')
            pred = _to_tensor(output[self.pred_key]).double()
            mask = _to_tensor(ds[self.mask_key]).double()
            if gt.ndim != 3 or gt.shape[0] != 3:
                raise ValueError(f'{self.gt_key}: expected (3,H,W), got '
                                 f'{tuple(gt.shape)}')
            preds = pred[None] if pred.ndim == 3 else pred
            if preds.ndim != 4 or preds.shape[1:] != gt.shape:
                raise ValueError(
                    f'output.{self.pred_key}: expected (3,H,W) or (K,3,H,W) '
                    f'matching {self.gt_key} {tuple(gt.shape)}, got '
                    f'{tuple(pred.shape)}')
            mask = (mask.reshape(1, *gt.shape[-2:]) > 0).double()
            ratio = float(mask.mean())
            bucket = assign_bucket(ratio, edges)
            meta = {k: ds.get(k) for k in _META_KEYS}
            if meta['hole_ratio'] is not None and \
                    abs(float(meta['hole_ratio']) - ratio) > 1e-6:
                self._warn_once(
                    'ratio', 'SPNInpaintingMetric: the hole ratio of the mask '
                    f'the model saw ({ratio:.6f}) differs from the '
                    f'manifest\'s ({float(meta["hole_ratio"]):.6f}) for '
                    f'{meta["gt_path"]}; buckets use the measured ratio.')
            order = str(
                ds.get('gt_img_output_channel_order')
                or self.channel_order).upper()

            if self.mask_threshold is None and self.composite:
                if not meta['mask_path']:
                    raise KeyError(
                        'SPNInpaintingMetric: mask_threshold=None needs the '
                        "sample's 'mask_path' (PackInputs(meta_keys=[..., "
                        "'mask_path']))")
                comp_mask = read_raw_mask(meta['mask_path'],
                                          gt.shape[-2:])[None]
            else:
                comp_mask = mask.numpy()
            gt_np = gt.numpy()
            gt_eval = quantize_img(gt_np, self.quantize) if self.quantize \
                else gt_np
            scores, fakes = [], []
            for k in range(preds.shape[0]):
                p = preds[k]
                if self.composite:
                    p_np = composite_img(
                        p, gt_np, comp_mask,
                        binarize=self.mask_threshold is not None)
                else:
                    p_np = p.numpy()
                if self.quantize:
                    p_np = quantize_img(p_np, self.quantize)
                if self.compat == 'spn':
                    s = spn_scores(chw_to_hwc(p_np), chw_to_hwc(gt_eval))
                else:
                    s = self._mmagic_scorer(
                        torch.from_numpy(p_np.astype(np.float64)),
                        torch.from_numpy(gt_eval.astype(np.float64)), mask)
                capped = not (s['PSNR'] <= self.psnr_cap)
                s['PSNR'] = min(s['PSNR'], self.psnr_cap)
                s['capped'] = capped
                scores.append(s)
                fakes.append(p_np)
            psnrs = [s['PSNR'] for s in scores]
            best = int(np.argmax(psnrs))
            if self.writer is not None:
                self.writer.write(
                    self._feat_key(meta), fakes, best, gt_eval,
                    comp_mask if self.composite else mask.numpy(), order)
            res = dict(
                meta,
                ratio=ratio,
                bucket_measured=bucket,
                K=len(scores),
                best=best,
                psnr=psnrs,
                ssim=[s['SSIM'] for s in scores],
                mae=[s['MAE'] for s in scores],
                capped=[bool(s['capped']) for s in scores],
                lpips_div=None,
                lpips_div_hole=None,
                real_feat=None,
                fake_feats=None)
            if self.lpips is not None and len(scores) > 1:
                samples = torch.stack([
                    self._to_rgb01(f.astype(np.float64), order) for f in fakes
                ]).to(self.device)
                res['lpips_div'] = lpips_pairwise_diversity(
                    self.lpips, samples)
                res['lpips_div_hole'] = lpips_hole_diversity(
                    self.lpips_spatial, samples, mask[0].to(self.device))
            elif len(scores) > 1 and self.lpips_cfg is None:
                self._warn_once(
                    'lpips', 'SPNInpaintingMetric: K > 1 samples but '
                    'lpips_cfg is None; LPIPS diversity is not computed.')
            if self.inception is not None:
                key = self._feat_key(meta)
                if self._real_cache is not None and key in self._real_cache:
                    res['real_feat'] = self._real_cache[key]
                else:
                    fid_real.append(self._to_rgb01(gt_eval, order))
                    fid_slots.append(('real', len(self.results), None))
                for k, f in enumerate(fakes):
                    fid_fake.append(self._to_rgb01(f, order))
                    fid_slots.append(('fake', len(self.results), k))
                res['fake_feats'] = [None] * len(fakes)
            self.results.append(res)
        if fid_slots:
            imgs = torch.stack(fid_real + fid_fake).to(self.device)
            feats = self.inception(imgs).cpu().numpy().astype(np.float32)
            real_rows = iter(range(len(fid_real)))
            fake_rows = iter(range(len(fid_real), len(feats)))
            for kind, ridx, k in fid_slots:
                if kind == 'real':
                    self.results[ridx]['real_feat'] = feats[next(real_rows)]
                else:
                    self.results[ridx]['fake_feats'][k] = feats[next(
                        fake_rows)]

    @staticmethod
    def _feat_key(meta: dict) -> Optional[int]:
        for k in ('manifest_idx', 'sample_idx'):
            if meta.get(k) is not None:
                return int(meta[k])
        return None

    # ------------------------------------------------------------------
    # aggregation
    # ------------------------------------------------------------------
    def _name(self) -> str:
        meta = self.dataset_meta or {}
        return self.dataset_name or meta.get('dataset_name') or 'dataset'

    def compute_metrics(self, results: List[dict]) -> Dict[str, Any]:
        """Aggregate per bucket, print the table, save JSON/CSV."""
        edges = self._edges()
        names = bucket_names(edges)
        eps = (self.fid_cfg or {}).get('eps', 1e-6)
        fid = None
        if self.inception is not None:
            def fid(real: list, fake: list) -> float:
                return fid_from_feature_lists(real, fake, eps)
        out = bucket_summary(
            results,
            edges,
            mae_scaling=self.mae_scaling,
            fid=fid,
            fid_dim=FID_DIM,
            with_lpips=self.lpips is not None)
        k_max = out.get(f'{ALL_BUCKET}/K', 1)
        if self.inception is not None and self.inception.smoke:
            out['FID_meaningless'] = 1
        meta = self.dataset_meta or {}
        mhash = meta.get('manifest_hash') or \
            next((r['manifest_hash'] for r in results
                  if r.get('manifest_hash')), None) or 'none'
        out['manifest_hash'] = mhash
        skipped = meta.get('skipped_pairs') or []
        if skipped:
            out['skipped_pairs/count'] = len(skipped)
        self._write_cache(results)
        table = self._table(out, names + [ALL_BUCKET], mhash, len(results))
        self.last_table = table
        print_log('\n' + table, 'current')
        if self.save_results:
            self._save(out, results, names + [ALL_BUCKET], mhash)
        if self.writer is not None:
            write_per_image_csv(
                osp.join(self.writer.out_dir, 'per_image.csv'), results,
                self.mae_scaling)
            self.writer.write_readme(self._settings(mhash, len(results)),
                                     k_max)
        return out

    def _write_cache(self, results: List[dict]) -> None:
        path = self._cache_path()
        if path is None or self._real_cache is not None:
            return
        idx = [self._feat_key(r) for r in results]
        if any(i is None for i in idx) or len(set(idx)) != len(idx):
            return
        os.makedirs(osp.dirname(path), exist_ok=True)
        np.savez(
            path,
            idx=np.asarray(idx, dtype=np.int64),
            features=np.stack([r['real_feat'] for r in results]))
        print_log(
            f'SPNInpaintingMetric: reference FID features cached at '
            f'{path}', 'current')

    # ------------------------------------------------------------------
    # reporting
    # ------------------------------------------------------------------
    def _table(self, out: dict, cols: List[str], mhash: str, n: int) -> str:
        k = out.get(f'{ALL_BUCKET}/K', 1)
        title = (f'SPN inpainting metrics | dataset={self._name()} | '
                 f'compat={self.compat} | N={n}' +
                 (f' scored, {len(self._skipped())} skipped (allow_missing)'
                  if self._skipped() else '') +
                 (f' | best-of-{k} by PSNR' if k > 1 else '') +
                 f' | manifest={mhash}')
        if out.get('FID_meaningless'):
            title += ' | FID MEANINGLESS (smoke weights)'
        return format_table(title, out, cols)

    def _resolve_output_dir(self) -> Optional[str]:
        if self.output_dir is not None:
            return self.output_dir
        logger = MMLogger.get_current_instance()
        for h in logger.handlers:
            if isinstance(h, logging.FileHandler):
                return osp.dirname(osp.abspath(h.baseFilename))
        return None

    def _save(self, out: dict, results: List[dict], cols: List[str],
              mhash: str) -> None:
        out_dir = self._resolve_output_dir()
        if out_dir is None:
            self._warn_once(
                'outdir', 'SPNInpaintingMetric: no output_dir and no runner '
                'log dir; JSON/CSV results are not saved.')
            return
        stem = f'spn_metrics_{self._name()}'.replace('/', '_')
        if self.prefix:
            stem += f'_{self.prefix}'.replace('/', '_')
        stem += f'_{self.compat}_{mhash[:8]}'
        jpath, cpath = write_summary(out_dir, stem,
                                     self._settings(mhash, len(results)),
                                     out, cols)
        ppath = osp.join(out_dir, stem + '_per_image.csv')
        write_per_image_csv(ppath, results, self.mae_scaling)
        self.saved_files = [jpath, cpath, ppath]
        print_log(
            f'SPNInpaintingMetric: results (manifest {mhash}) saved to '
            f'{jpath}, {cpath}, {ppath}', 'current')

    def _skipped(self) -> list:
        """Pairs the dataset dropped (``allow_missing=True``)."""
        return list((self.dataset_meta or {}).get('skipped_pairs') or [])

    def _settings(self, mhash: str, n: int) -> dict:
        """The evaluation settings recorded with saved results."""
        return dict(
            dataset=self._name(),
            compat=self.compat,
            manifest_hash=mhash,
            num_images=n,
            skipped_pairs=self._skipped(),
            bucket_edges=list(self._edges()),
            psnr_cap=self.psnr_cap,
            quantize=self.quantize,
            composite=self.composite,
            mask_threshold=self.mask_threshold,
            mae_scaling=self.mae_scaling,
            fid_weights_sha1=(None if self.inception is None else
                              self.inception.weights_sha1))
