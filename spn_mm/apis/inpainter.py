"""High-level SPN inference on user photos: :class:`SPNInpainter`."""
import contextlib
import os
import warnings
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from mmengine.config import Config

from spn_mm.models.editors.spn.precision import (PRECISIONS,
                                                 as_memory_format,
                                                 check_precision,
                                                 precision_context,
                                                 to_memory_format)
from .hd_strategy import (DEFAULT_CROP_MARGIN, DEFAULT_MAX_PIXELS,
                          DEFAULT_RESIZE_LIMIT, HD_STRATEGIES, HDPlan,
                          minimum_side, required_multiple)
from .image_io import (HOLE_CONVENTIONS, ImageInput, SPNMaskWarning, load_mask,
                       read_alpha, read_image)
from .model_loader import init_spn_model

Output = np.ndarray

# ``low_memory=None`` (automatic) uses the low-memory path above this many
# network-input pixels per image (512 x 512).
LOW_MEMORY_AUTO_PIXELS = 512 * 512


@contextlib.contextmanager
def flush_denormal(device: torch.device) -> Iterator[None]:
    """Flush denormal floats to zero on CPU for the duration (then back to
    torch's default, off; torch has no getter for the current state).

    Denormals (|x| < 1.2e-38) are irrelevant for 8-bit images but make CPU
    convolutions up to ~50x slower; untrained/random-weight models produce
    many of them.
    """
    if device.type != 'cpu' or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


class SPNInpainter:
    """Inpaint user images with a trained (or converted official) SPN.

    Example::

        >>> from spn_mm.apis import SPNInpainter
        >>> inpainter = SPNInpainter('configs/spn_places2.py',
        ...                          'checkpoints/spn_places2.pth')
        >>> result = inpainter.inpaint('photo.jpg', 'mask.png')  # (H, W, 3)

    Images of any size are handled by an HD strategy (see
    :mod:`spn_mm.apis.hd_strategy`); pixels outside the holes of the output
    always equal the input exactly.

    Args:
        config (str | PathLike | Config | dict): The model config (only its
            ``model`` field is used; teacher, discriminator and losses are
            not built, so their weight files need not exist).
        checkpoint (str | PathLike | dict, optional): Trained or converted
            checkpoint (generator keys loaded strictly, teacher and
            discriminator keys ignored). None keeps random weights (tests).
        device (str | torch.device): ``'cpu'`` or ``'cuda[:N]'``.
            Default: ``'cpu'``.
        hd_strategy (str): Default strategy, ``'original'``, ``'crop'`` or
            ``'resize'``. Default: ``'original'``.
        max_pixels (int, optional): Largest network input (pixels) for
            ``'original'``/``'crop'``. Default: 1024 * 1024.
        crop_margin (int): Context around the holes for ``'crop'``.
            Default: 128.
        resize_limit (int): Longest network side for ``'resize'``.
            Default: 512.
        batch_size (int): Images per forward pass for list inputs (images
            whose network inputs have the same size are batched).
            Default: 4.
        cfg_options (dict, optional): Config overrides.
        precision (str): ``'fp32'`` (reference), ``'bf16'`` (autocast, CPU
            or CUDA) or ``'fp16'`` (autocast, CUDA only); see
            :mod:`spn_mm.models.editors.spn.precision`. Default: ``'fp32'``.
        channels_last (bool, optional): NHWC memory format; None: on for
            bf16/fp16 and on CUDA. Default: None.
        low_memory (bool, optional): The generator's exact low-memory path
            (``SPNGenerator.forward_test(..., low_memory=True)``: row
            stripes, equal to the default path up to float32 rounding).
            True/False: always/never; None: automatic, on for network
            inputs of more than ``LOW_MEMORY_AUTO_PIXELS`` (512 x 512)
            pixels. Default: None.

    Attributes:
        model (nn.Module): The :class:`SPNInpaintor` (eval mode).
        generator (nn.Module): Its :class:`SPNGenerator`.
        multiple (int): Side multiple the model needs (4 deterministic, 32
            probabilistic), derived from the generator.
        min_side (int): Smallest network-input side
            (:func:`~spn_mm.apis.hd_strategy.minimum_side`); smaller images
            are padded up to it and cropped back.
        load_report (dict | None): Which checkpoint keys were loaded/ignored.
    """

    def __init__(self,
                 config: Union[str, os.PathLike, Config, dict],
                 checkpoint: Optional[Union[str, os.PathLike, dict]] = None,
                 device: Union[str, torch.device] = 'cpu',
                 hd_strategy: str = 'original',
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 crop_margin: int = DEFAULT_CROP_MARGIN,
                 resize_limit: int = DEFAULT_RESIZE_LIMIT,
                 batch_size: int = 4,
                 cfg_options: Optional[dict] = None,
                 keep_teacher: bool = False,
                 precision: str = 'fp32',
                 channels_last: Optional[bool] = None,
                 low_memory: Optional[bool] = None) -> None:
        self._check_strategy(hd_strategy)
        if low_memory not in (None, True, False):
            raise ValueError('low_memory must be True, False or None '
                             f'(automatic), got {low_memory!r}')
        self.low_memory = low_memory
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be an int >= 1, got '
                             f'{batch_size!r}')
        self.model = init_spn_model(
            config,
            checkpoint,
            device=device,
            cfg_options=cfg_options,
            keep_teacher=keep_teacher)
        self.generator = self.model.generator
        self.device = next(self.generator.parameters()).device
        self.precision, self.channels_last = check_precision(
            precision, self.device, channels_last)
        self.generator.fuse()  # exact (<= 1e-5), same state_dict
        to_memory_format(self.generator, self.channels_last)
        self.multiple = required_multiple(self.generator)
        self.min_side = minimum_side(self.generator)
        self.load_report = self.model.load_report
        self.hd_strategy = hd_strategy
        self.max_pixels = max_pixels
        self.crop_margin = crop_margin
        self.resize_limit = resize_limit
        self.batch_size = batch_size

    @staticmethod
    def _check_strategy(strategy: str) -> None:
        if strategy not in HD_STRATEGIES:
            raise ValueError(f'hd_strategy must be one of {HD_STRATEGIES}, '
                             f'got {strategy!r}')

    @property
    def is_probabilistic(self) -> bool:
        """Whether the model samples (variational prior)."""
        return bool(self.generator.is_probabilistic)

    # ------------------------------------------------------------------ #
    # preparation
    # ------------------------------------------------------------------ #
    def prepare(
        self,
        image: ImageInput,
        mask: Optional[ImageInput] = None,
        hole: str = 'white',
        dilate: int = 0,
        hd_strategy: Optional[str] = None,
        name: str = 'image'
    ) -> Tuple[np.ndarray, np.ndarray, Optional[HDPlan]]:
        """Read an image/mask pair and plan its network input.

        Args:
            image (str | PathLike | np.ndarray | PIL.Image.Image): The
                image (arrays: (H, W, 3) uint8 RGB).
            mask (str | PathLike | np.ndarray | PIL.Image.Image, optional):
                The mask; None is only allowed with ``hole='alpha'`` (the
                image's own transparent pixels are the holes).
            hole (str): Mask convention ``'white'``, ``'black'`` or
                ``'alpha'``. Default: ``'white'``.
            dilate (int): Grow holes by this many pixels. Default: 0.
            hd_strategy (str, optional): Override the default strategy.
            name (str): How to call the image in messages (``'image'`` or
                ``'image <i>'``; the mask is called likewise).

        Returns:
            tuple: ``(image (H, W, 3) uint8, mask (H, W) bool, plan)``;
            ``plan`` is None when the mask has no hole.
        """
        strategy = hd_strategy or self.hd_strategy
        self._check_strategy(strategy)
        if hole not in HOLE_CONVENTIONS:
            raise ValueError(f'hole must be one of {HOLE_CONVENTIONS}, got '
                             f'{hole!r}')
        img = read_image(image, name)
        if mask is None:
            if hole != 'alpha':
                raise ValueError(
                    f"{name}: no mask given; pass a mask, or hole='alpha' to "
                    'use the transparent pixels of the image as holes')
            if read_alpha(image, name) is None:
                raise ValueError(
                    f"{name}: hole='alpha' without a mask needs an image "
                    'with an alpha channel (transparent = hole)')
            mask = image
        holes = load_mask(
            mask,
            hole=hole,
            dilate=dilate,
            image_size=img.shape[:2],
            name=name.replace('image', 'mask', 1))
        if not holes.any():
            warnings.warn(
                f"{name.replace('image', 'mask', 1)} has no hole pixels: "
                'returning the input unchanged',
                SPNMaskWarning,
                stacklevel=2)
            return img, holes, None
        plan = HDPlan(
            img,
            holes,
            self.multiple,
            strategy=strategy,
            max_pixels=self.max_pixels,
            crop_margin=self.crop_margin,
            resize_limit=self.resize_limit,
            min_side=self.min_side)
        return img, holes, plan

    def to_tensors(
            self,
            plans: Sequence[HDPlan]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Stack network inputs in the generator's convention.

        Args:
            plans (Sequence[HDPlan]): Plans with equal ``net_shape``.

        Returns:
            tuple[Tensor, Tensor]: ``masked_img`` (B, 3, h, w) in [-1, 1]
            with holes 0 and ``mask`` (B, 1, h, w), 1 = hole, on the
            model's device.
        """
        img = np.stack([p.net_image for p in plans]).astype(np.float32)
        msk = np.stack([p.net_mask for p in plans]).astype(np.float32)
        img = torch.from_numpy(img).permute(0, 3, 1, 2) / 127.5 - 1.
        msk = torch.from_numpy(msk)[:, None]
        img = img * (1. - msk)
        return img.to(self.device), msk.to(self.device)

    @staticmethod
    def to_uint8_range(out: torch.Tensor) -> np.ndarray:
        """(..., 3, h, w) in [-1, 1] -> (..., h, w, 3) float32 in [0, 255]."""
        arr = ((out.float().clamp(-1, 1) + 1) * 127.5).cpu().numpy()
        return np.moveaxis(arr, -3, -1)

    # ------------------------------------------------------------------ #
    # inference
    # ------------------------------------------------------------------ #
    def uses_low_memory(self, net_shape: Tuple[int, int]) -> bool:
        """Whether a network input of ``net_shape`` (h, w) runs the
        low-memory path (see ``low_memory``)."""
        if self.low_memory is not None:
            return self.low_memory
        return net_shape[0] * net_shape[1] > LOW_MEMORY_AUTO_PIXELS

    @torch.no_grad()
    def _forward(self, plans: Sequence[HDPlan], num_samples: int,
                 seeds: Optional[List[int]], sample: str) -> np.ndarray:
        """(K, B, h, w, 3) float raw predictions in [0, 255]."""
        masked, mask = self.to_tensors(plans)
        with flush_denormal(self.device), precision_context(
                self.precision, self.device):
            out = self.generator.forward_test(
                as_memory_format(masked, self.channels_last),
                mask,
                num_samples=num_samples,
                seed=seeds,
                sample=sample,
                low_memory=self.uses_low_memory(masked.shape[-2:]))
        if num_samples == 1:
            out = out.unsqueeze(0)
        return self.to_uint8_range(out)

    def inpaint(self,
                image: Union[ImageInput, Sequence[ImageInput]],
                mask: Optional[Union[ImageInput, Sequence[ImageInput]]] = None,
                num_samples: int = 1,
                seed: Optional[int] = None,
                hole: str = 'white',
                dilate: int = 0,
                hd_strategy: Optional[str] = None,
                sample: str = 'random') -> Union[Output, List[Output]]:
        """Inpaint one image or a list of images.

        Args:
            image: A path, an (H, W, 3) uint8 RGB array or a PIL image, or a
                list of them (batched by network input size).
            mask: The mask(s), same kinds (True/white = hole by default; see
                ``hole``). A single mask is reused for every image of a
                list. None only with ``hole='alpha'``.
            num_samples (int): K results per image (probabilistic models;
                a deterministic model returns K identical results, with a
                warning). Default: 1.
            seed (int, optional): Image ``i`` of the call draws its noise
                from a generator seeded with ``seed + i``, so results do not
                depend on the batch; the same seed gives the same samples.
                None uses torch's global RNG. Default: None.
            hole (str): Mask convention. Default: ``'white'``.
            dilate (int): Grow holes by this many pixels. Default: 0.
            hd_strategy (str, optional): ``'original'``, ``'crop'`` or
                ``'resize'``; None uses the instance default.
            sample (str): ``'random'`` or ``'mean'`` (z = mu). Default:
                ``'random'``.

        Returns:
            np.ndarray | list[np.ndarray]: Per image an (H, W, 3) uint8 RGB
            array (K == 1) or (K, H, W, 3); a list for list inputs. An image
            whose mask has no hole is returned unchanged (with a warning).
        """
        single = not isinstance(image, (list, tuple))
        images = [image] if single else list(image)
        if isinstance(mask, (list, tuple)):
            if single or len(mask) != len(images):
                raise ValueError(
                    f'inpaint: got {len(images)} image(s) and {len(mask)} '
                    'masks; give one mask per image or a single mask')
            masks = list(mask)
        else:
            masks = [mask] * len(images)
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f'num_samples must be an int >= 1, got '
                             f'{num_samples!r}')
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise TypeError(f'seed must be an int or None, got {seed!r}')
        if sample not in ('random', 'mean'):
            raise ValueError(f"sample must be 'random' or 'mean', got "
                             f'{sample!r}')
        if num_samples > 1 and not self.is_probabilistic:
            warnings.warn(
                'num_samples > 1 with a deterministic SPN: all samples are '
                'identical',
                UserWarning,
                stacklevel=2)

        prepared = []
        for i, (img, msk) in enumerate(zip(images, masks)):
            name = 'image' if single else f'image {i}'
            prepared.append(
                self.prepare(img, msk, hole, dilate, hd_strategy, name))

        results: List[Optional[np.ndarray]] = [None] * len(images)
        groups: Dict[Tuple[int, int], List[int]] = {}
        for i, (img, _, plan) in enumerate(prepared):
            if plan is None:
                results[i] = np.stack([img] * num_samples)
            else:
                groups.setdefault(plan.net_shape, []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                plans = [prepared[i][2] for i in chunk]
                seeds = None if seed is None else [
                    int(seed) + i for i in chunk
                ]
                outs = self._forward(plans, num_samples, seeds, sample)
                for j, i in enumerate(chunk):
                    img, _, plan = prepared[i]
                    results[i] = np.stack([
                        plan.paste_back(img, outs[k, j])
                        for k in range(num_samples)
                    ])
        if num_samples == 1:
            results = [r[0] for r in results]
        return results[0] if single else results

    __call__ = inpaint

    # ------------------------------------------------------------------ #
    # features for visualisation
    # ------------------------------------------------------------------ #
    @torch.no_grad()
    def extract_features(self,
                         image: ImageInput,
                         mask: Optional[ImageInput] = None,
                         num_samples: int = 1,
                         seed: Optional[int] = None,
                         hole: str = 'white',
                         dilate: int = 0,
                         hd_strategy: Optional[str] = None,
                         sample: str = 'random',
                         with_teacher: bool = False) -> Dict[str, Any]:
        """Intermediate SPN features of one image (for visualisation).

        Args:
            image, mask, hole, dilate, hd_strategy, sample: See
                :meth:`inpaint`.
            num_samples (int): K sampled prior pyramids (probabilistic
                models); sample ``k`` is the ``k``-th result of
                ``inpaint(..., num_samples=K, seed=seed)``.
            seed (int, optional): See :meth:`inpaint`.
            with_teacher (bool): Also run the teacher on the un-masked
                network input (needs ``keep_teacher=True``).

        Returns:
            dict: network-resolution tensors on CPU, batch 1 per sample:
            ``image`` (h, w, 3) uint8 network input, ``mask`` (h, w) bool,
            ``valid`` (h, w) crop of the un-padded region, ``priors`` list
            over samples of lists fine -> coarse ((1, C_l, h_l, w_l)),
            ``feat_enc`` F_enc^L, ``feat_dec`` list over samples of F_dec^L,
            ``prior_enc`` S_enc^L, ``outputs`` list of (h, w, 3) uint8
            composites at network resolution, ``teacher`` (list fine ->
            coarse, or None).
        """
        img, holes, plan = self.prepare(image, mask, hole, dilate, hd_strategy)
        if plan is None:
            raise ValueError('extract_features: the mask has no hole')
        masked, msk = self.to_tensors([plan])
        gen = self.generator
        seeds = None if seed is None else [int(seed)]
        # One pass with K samples so that sample k equals the k-th output of
        # inpaint(num_samples=K, seed=seed).
        with flush_denormal(self.device), precision_context(
                self.precision, self.device):
            res = gen.forward_features(
                as_memory_format(masked, self.channels_last),
                msk,
                num_samples=num_samples,
                seed=seeds,
                sample=sample,
                low_memory=self.uses_low_memory(masked.shape[-2:]))
        k = res.num_samples
        priors = [[p[s:s + 1].float().cpu() for p in res.priors]
                  for s in range(k)]
        feat_dec = [res.feat_dec[s:s + 1].float().cpu() for s in range(k)]
        raw = self.to_uint8_range(res.out)
        net_img = plan.net_image
        outputs = []
        for s in range(k):
            comp = net_img.copy()
            comp[plan.net_mask] = np.clip(np.rint(raw[s]), 0,
                                          255).astype(np.uint8)[plan.net_mask]
            outputs.append(comp)
        teacher = None
        if with_teacher:
            if getattr(self.model, 'teacher', None) is None:
                raise ValueError('extract_features(with_teacher=True) needs '
                                 'SPNInpainter(..., keep_teacher=True) and a '
                                 'config with model.teacher')
            full = torch.from_numpy(net_img.astype(np.float32)).permute(
                2, 0, 1)[None] / 127.5 - 1.
            with flush_denormal(self.device):
                teacher = [
                    t.cpu() for t in self.model.teacher(full.to(self.device))
                ]
        return dict(
            image=net_img,
            mask=plan.net_mask,
            valid=plan.scaled_shape,
            priors=priors,
            feat_enc=res.feat_enc.float().cpu(),
            feat_dec=feat_dec,
            prior_enc=res.prior_enc.float().cpu(),
            outputs=outputs,
            teacher=teacher,
            num_samples=k)
