"""Reading user images and masks for SPN inference.

Images become (H, W, 3) ``uint8`` RGB arrays; masks become (H, W) ``bool``
arrays with **True = hole**, whatever convention the file uses:

* ``hole='white'`` (default): bright pixels (grey value >= 128) are holes;
* ``hole='black'``: dark pixels (grey value < 128) are holes;
* ``hole='alpha'``: transparent pixels (alpha < 128) are holes; the mask (or,
  without a mask, the image itself) must have an alpha channel.

Grey values of colour masks are the channel mean, so JPEG masks (whose
compression blurs the edges and adds noise) are binarised at 128. Masks
given as 0/1 arrays or files (integer maximum <= 1, bool, or float in
[0, 1]) are scaled to 0/255 first.
"""
import os
import os.path as osp
import warnings
from typing import Optional, Tuple, Union

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ImageInput = Union[str, os.PathLike, np.ndarray, Image.Image]

HOLE_CONVENTIONS = ('white', 'black', 'alpha')
#: A mask with more than this fraction of hole pixels probably uses the
#: other convention.
INVERTED_HOLE_RATIO = 0.9
_THRESHOLD = 128


class SPNMaskWarning(UserWarning):
    """A mask that looks wrong (inverted) or has no hole at all."""


def _open(path: Union[str, os.PathLike], name: str) -> Image.Image:
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{name}: file not found: {path!r}')
    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise ValueError(f'{name}: cannot read {path!r}: not a readable '
                         f'image ({err})') from err
    return img


def read_image(image: ImageInput, name: str = 'image') -> np.ndarray:
    """Read an RGB image.

    Args:
        image (str | PathLike | np.ndarray | PIL.Image.Image): A file path
            (any format PIL reads; the EXIF orientation is applied), an
            (H, W, 3) ``uint8`` RGB array ((H, W) grey and (H, W, 4) RGBA
            arrays are accepted; alpha is dropped) or a PIL image.
        name (str): How to call the input in error messages.

    Returns:
        np.ndarray: (H, W, 3) ``uint8`` RGB, a new array.
    """
    if isinstance(image, (str, os.PathLike)):
        pil = ImageOps.exif_transpose(_open(image, name))
        return np.array(pil.convert('RGB'), dtype=np.uint8)
    if isinstance(image, Image.Image):
        return np.array(image.convert('RGB'), dtype=np.uint8)
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(f'{name}: expected a uint8 RGB array (H, W, 3), '
                            f'got dtype {image.dtype}')
        if image.ndim == 2:
            return np.repeat(image[..., None], 3, axis=2)
        if image.ndim == 3 and image.shape[2] in (3, 4):
            return np.ascontiguousarray(image[..., :3]).copy()
        raise ValueError(f'{name}: expected an RGB array of shape (H, W, 3), '
                         f'got {image.shape}')
    raise TypeError(f'{name}: expected a path, a numpy array or a PIL image, '
                    f'got {type(image).__name__}')


def read_alpha(image: ImageInput, name: str = 'image') -> Optional[np.ndarray]:
    """The alpha channel (H, W) ``uint8`` of an image, or None if it has none.

    Args:
        image (str | PathLike | np.ndarray | PIL.Image.Image): As in
            :func:`read_image`; arrays need 4 channels to have alpha.
        name (str): How to call the input in error messages.

    Returns:
        np.ndarray | None: The alpha channel.
    """
    if isinstance(image, (str, os.PathLike)):
        image = ImageOps.exif_transpose(_open(image, name))
    if isinstance(image, Image.Image):
        if image.mode in ('RGBA', 'LA', 'PA') or \
                'transparency' in image.info:
            return np.array(image.convert('RGBA'))[..., 3]
        return None
    if isinstance(image, np.ndarray) and image.ndim == 3 and \
            image.shape[2] == 4:
        return np.asarray(image[..., 3])
    return None


def _grey_levels(mask: ImageInput, name: str) -> np.ndarray:
    """(H, W) float grey levels in [0, 255] of a mask input."""
    if isinstance(mask, (str, os.PathLike)):
        mask = _open(mask, name)
    if isinstance(mask, Image.Image):
        if mask.mode in ('1', 'L', 'P', 'I', 'I;16', 'F'):
            arr = np.array(mask.convert('L') if mask.mode == 'P' else mask)
        else:
            arr = np.array(mask.convert('RGB'))
    elif isinstance(mask, np.ndarray):
        arr = mask
    else:
        raise TypeError(f'{name}: expected a path, a numpy array or a PIL '
                        f'image, got {type(mask).__name__}')
    if arr.ndim == 3:
        if arr.shape[2] not in (1, 3, 4):
            raise ValueError(f'{name}: expected an (H, W) or (H, W, 3) mask, '
                             f'got shape {arr.shape}')
        arr = arr[..., :3].astype(np.float64).mean(axis=2)
    elif arr.ndim != 2:
        raise ValueError(f'{name}: expected an (H, W) or (H, W, 3) mask, '
                         f'got shape {arr.shape}')
    if arr.dtype == np.bool_:
        return arr.astype(np.float64) * 255.
    arr = arr.astype(np.float64)
    if arr.size and arr.max() <= 1.:  # 0/1 masks (bool-like or [0, 1])
        arr = arr * 255.
    return arr


def binarize_mask(mask: ImageInput,
                  hole: str = 'white',
                  name: str = 'mask') -> np.ndarray:
    """Turn a mask in a given convention into a boolean hole map.

    Args:
        mask (str | PathLike | np.ndarray | PIL.Image.Image): Mask file,
            (H, W) / (H, W, 3|4) array or PIL image.
        hole (str): ``'white'``, ``'black'`` or ``'alpha'`` (see the module
            docstring).
        name (str): How to call the input in error messages.

    Returns:
        np.ndarray: (H, W) ``bool``, True = hole.
    """
    if hole not in HOLE_CONVENTIONS:
        raise ValueError(f'hole must be one of {HOLE_CONVENTIONS}, got '
                         f'{hole!r}')
    if hole == 'alpha':
        alpha = read_alpha(mask, name)
        if alpha is None:
            raise ValueError(
                f"{name}: hole='alpha' needs a mask with an alpha channel "
                '(transparent = hole, e.g. an RGBA PNG); this one has none. '
                "Use hole='white' or 'black' for plain masks")
        return alpha < _THRESHOLD
    grey = _grey_levels(mask, name)
    if hole == 'white':
        return grey >= _THRESHOLD
    return grey < _THRESHOLD


def dilate_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow the holes by ``pixels`` (square structuring element).

    Args:
        mask (np.ndarray): (H, W) bool, True = hole.
        pixels (int): Dilation radius; 0 returns the mask unchanged.

    Returns:
        np.ndarray: (H, W) bool.
    """
    if not isinstance(pixels, (int, np.integer)) or pixels < 0:
        raise ValueError(f'dilate must be an int >= 0, got {pixels!r}')
    if pixels == 0:
        return mask.copy()
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def load_mask(mask: ImageInput,
              hole: str = 'white',
              dilate: int = 0,
              image_size: Optional[Tuple[int, int]] = None,
              name: str = 'mask',
              warn: bool = True) -> np.ndarray:
    """Read, binarise, check and optionally dilate a mask.

    Warns (:class:`SPNMaskWarning`) when more than
    :data:`INVERTED_HOLE_RATIO` of the pixels are holes (the mask probably
    uses the other convention).

    Args:
        mask (str | PathLike | np.ndarray | PIL.Image.Image): The mask.
        hole (str): ``'white'``, ``'black'`` or ``'alpha'``.
        dilate (int): Grow holes by this many pixels. Default: 0.
        image_size (tuple[int, int], optional): (H, W) of the image; a
            mismatch raises ``ValueError``.
        name (str): How to call the input in messages.
        warn (bool): Emit the inverted-mask warning. Default: True.

    Returns:
        np.ndarray: (H, W) ``bool``, True = hole.
    """
    holes = binarize_mask(mask, hole, name)
    if image_size is not None and holes.shape != tuple(image_size):
        raise ValueError(
            f'{name}: mask size {holes.shape[1]}x{holes.shape[0]} (WxH) does '
            f'not match the image size {image_size[1]}x{image_size[0]}')
    ratio = float(holes.mean()) if holes.size else 0.
    if warn and ratio > INVERTED_HOLE_RATIO:
        other = {'white': 'black', 'black': 'white', 'alpha': 'white'}[hole]
        warnings.warn(
            f'{name}: {ratio:.1%} of the pixels are holes with '
            f"hole='{hole}'; the mask looks inverted (did you mean "
            f"hole='{other}'?)",
            SPNMaskWarning,
            stacklevel=2)
    return dilate_mask(holes, dilate)


def write_image(path: Union[str, os.PathLike], image: np.ndarray) -> None:
    """Write an (H, W, 3) ``uint8`` RGB array, creating parent folders.

    Args:
        path (str | PathLike): Output file; the format follows the suffix.
        image (np.ndarray): (H, W, 3) uint8 RGB.
    """
    path = os.fspath(path)
    parent = osp.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(image)).save(path)
