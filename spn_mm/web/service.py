"""What the web demo does with an upload, framework-free: decode and check
the image and mask bytes (in memory, never on disk), run
:class:`~spn_mm.apis.SPNInpainter` one request at a time and encode the
result (PNG, or a zip for several samples).
"""
import io
import os.path as osp
import random
import threading
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from spn_mm.apis import HD_STRATEGIES, PRECISIONS, SPNInpainter, load_mask



class WebInputError(ValueError):
    """A bad upload or form field; ``status`` is the HTTP status to send.

    The message is one line naming the field and what was expected.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class WebLimits:
    """Upload limits of the demo.

    Attributes:
        max_upload_bytes (int): Largest request body (image + mask).
        max_image_pixels (int): Largest photo (width x height) accepted.
        max_samples (int): Largest ``num_samples``.
    """
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 25_000_000
    max_samples: int = 8


@dataclass
class InpaintResult:
    """The outcome of one request."""
    images: List[np.ndarray]
    seed: Optional[int]
    hole_pixels: int
    hd_strategy: str
    seconds: float
    warnings: List[str] = field(default_factory=list)


def _mb(n: int) -> str:
    return f'{n / (1024 * 1024):.1f} MB'


def decode_image(data: bytes, field_name: str,
                 limits: WebLimits) -> Image.Image:
    """Decode uploaded bytes with PIL after checking size and pixel count.

    Args:
        data (bytes): The file content.
        field_name (str): ``'image'`` or ``'mask'`` (for messages).
        limits (WebLimits): The limits.

    Returns:
        PIL.Image.Image: The decoded image, EXIF orientation applied.
    """
    if not data:
        raise WebInputError(f'{field_name}: the file is empty; expected a '
                            'PNG/JPEG/WebP/BMP/TIFF image')
    if len(data) > limits.max_upload_bytes:
        raise WebInputError(
            f'{field_name}: file of {_mb(len(data))} is over the '
            f'{_mb(limits.max_upload_bytes)} upload limit', 413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > limits.max_image_pixels:
                raise WebInputError(
                    f'{field_name}: {w}x{h} = {w * h:,} pixels is over the '
                    f'limit of {limits.max_image_pixels:,} pixels; use a '
                    'smaller photo', 413)
            img.load()
            img = ImageOps.exif_transpose(img)
    except WebInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise WebInputError(
            f'{field_name}: the image is too large to decode safely; the '
            f'limit is {limits.max_image_pixels:,} pixels', 413) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            EOFError):
        raise WebInputError(f'{field_name}: not a readable image; expected '
                            'a PNG/JPEG/WebP/BMP/TIFF file') from None
    return img


def encode_png(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format='PNG')
    return buf.getvalue()


def encode_zip(images: List[np.ndarray]) -> bytes:
    """Samples -> a zip of ``sample_<k>.png`` (stored: PNGs are packed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as zf:
        for k, img in enumerate(images):
            zf.writestr(f'sample_{k}.png', encode_png(img))
    return buf.getvalue()


class InpaintService:
    """The model behind the demo; one inference at a time.

    Args:
        inpainter (SPNInpainter): The loaded model.
        limits (WebLimits): Upload limits.
        model_name (str): What ``/api/health`` calls the model.
        precision (str): Reported precision. Default: ``'fp32'``.
    """

    def __init__(self,
                 inpainter: SPNInpainter,
                 limits: Optional[WebLimits] = None,
                 model_name: str = 'spn',
                 precision: str = 'fp32') -> None:
        self.inpainter = inpainter
        self.limits = limits or WebLimits()
        self.model_name = model_name
        self.precision = precision
        self._lock = threading.Lock()

    @classmethod
    def from_files(cls,
                   config: str,
                   checkpoint: str,
                   device: str = 'cpu',
                   precision: str = 'fp32',
                   hd_strategy: str = 'original',
                   limits: Optional[WebLimits] = None) -> 'InpaintService':
        """Load a config + checkpoint (server-side paths, never a client's)."""
        if precision not in PRECISIONS:
            raise ValueError(f'precision must be one of {PRECISIONS}, got '
                             f'{precision!r}')
        inpainter = SPNInpainter(
            config, checkpoint, device=device, hd_strategy=hd_strategy,
            batch_size=1, precision=precision)
        name = (f'{osp.splitext(osp.basename(str(config)))[0]} / '
                f'{osp.basename(str(checkpoint))}')
        return cls(inpainter, limits, name, precision)

    @property
    def variant(self) -> str:
        """``'prob'`` (samples) or ``'det'``."""
        return 'prob' if self.inpainter.is_probabilistic else 'det'

    @property
    def busy(self) -> bool:
        """Whether an inference is running now."""
        return self._lock.locked()

    def health(self) -> Dict[str, object]:
        """What ``GET /api/health`` answers."""
        return dict(
            status='ok',
            model=self.model_name,
            variant=self.variant,
            device=str(self.inpainter.device),
            precision=self.precision,
            multiple=self.inpainter.multiple,
            hd_strategies=list(HD_STRATEGIES),
            default_hd_strategy=self.inpainter.hd_strategy,
            busy=self.busy,
            limits=dict(
                max_upload_bytes=self.limits.max_upload_bytes,
                max_image_pixels=self.limits.max_image_pixels,
                max_samples=self.limits.max_samples
                if self.variant == 'prob' else 1))

    # ------------------------------------------------------------------ #
    def parse_options(self, num_samples: Optional[str], seed: Optional[str],
                      hd_strategy: Optional[str]) -> Dict[str, object]:
        """Check the optional form fields (strings) and convert them."""
        k = 1
        if num_samples not in (None, ''):
            try:
                k = int(num_samples)
            except ValueError:
                raise WebInputError(f'num_samples: expected an integer, got '
                                    f'{num_samples!r}') from None
            top = self.limits.max_samples if self.variant == 'prob' else 1
            if not 1 <= k <= top:
                hint = '' if self.variant == 'prob' else \
                    ' (this model is deterministic: one result)'
                raise WebInputError(f'num_samples: expected 1..{top}, got '
                                    f'{k}{hint}')
        s = None
        if seed not in (None, ''):
            try:
                s = int(seed)
            except ValueError:
                raise WebInputError(
                    f'seed: expected an integer, got {seed!r}') from None
            if not 0 <= s < 2**31:
                raise WebInputError(f'seed: expected 0..{2**31 - 1}, got {s}')
        strategy = hd_strategy or self.inpainter.hd_strategy
        if strategy not in HD_STRATEGIES:
            raise WebInputError(f'hd_strategy: expected one of '
                                f'{", ".join(HD_STRATEGIES)}, got '
                                f'{hd_strategy!r}')
        return dict(num_samples=k, seed=s, hd_strategy=strategy)

    def prepare(self, image_bytes: bytes,
                mask_bytes: bytes) -> Dict[str, np.ndarray]:
        """Decode and check an image/mask pair (white mask pixels = hole)."""
        image = np.array(
            decode_image(image_bytes, 'image', self.limits).convert('RGB'))
        mask_img = decode_image(mask_bytes, 'mask', self.limits)
        h, w = image.shape[:2]
        if mask_img.size != (w, h):
            raise WebInputError(f'mask: size {mask_img.size[0]}x'
                                f'{mask_img.size[1]} differs from the image '
                                f'({w}x{h}); expected a mask of the same '
                                'size')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            try:
                holes = load_mask(mask_img, hole='white', name='mask')
            except (ValueError, TypeError) as err:
                raise WebInputError(f'mask: {err}') from None
        if not holes.any():
            raise WebInputError('mask: no hole pixels; paint over (or upload '
                                'a white-on-black mask of) the part to fill')
        notes = [str(c.message).splitlines()[0] for c in caught
                 if issubclass(c.category, UserWarning)]
        return dict(image=image, holes=holes, notes=notes)

    def run(self, image_bytes: bytes, mask_bytes: bytes,
            options: Dict[str, object]) -> InpaintResult:
        """Decode, inpaint (holding the lock) and return the results."""
        pair = self.prepare(image_bytes, mask_bytes)
        k = int(options['num_samples'])
        seed = options['seed']
        if self.variant == 'prob' and seed is None:
            seed = random.randrange(2**31)  # reported, so reproducible
        with self._lock:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                try:
                    out = self.inpainter.inpaint(
                        pair['image'], pair['holes'], num_samples=k,
                        seed=seed, hd_strategy=options['hd_strategy'])
                except (ValueError, TypeError) as err:
                    # e.g. an image over max_pixels for hd_strategy original
                    raise WebInputError(str(err).splitlines()[0],
                                        413) from None
            seconds = time.perf_counter() - t0
        images = [out] if k == 1 else list(out)
        return InpaintResult(images, seed, int(pair['holes'].sum()),
                             str(options['hd_strategy']), seconds,
                             pair['notes'])
