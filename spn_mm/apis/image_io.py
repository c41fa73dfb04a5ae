"""Reading user images and masks for SPN inference.

Images become (H, W, 3) ``uint8`` RGB arrays; masks become (H, W) ``bool``
arrays with **True = hole**, whatever convention the file uses:

* ``hole='white'`` (default): bright pixels (grey value >= 128) are holes;
* ``hole='black'``: dark pixels (grey value < 128) are holes;
* ``hole='alpha'``: transparent pixels (alpha < 128) are holes; the mask (or,
  without a mask, the image itself) must have an alpha channel.

16-bit PNG/TIFF files are read with OpenCV (PIL would clip them) and
reduced to 8 bits for the network (``round(v / 257)``);
:func:`match_source` puts a result back into the file's own bit depth and
alpha channel, and :func:`write_image` writes it atomically.

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


#: Output formats that store 16-bit samples / an alpha channel.
SIXTEEN_BIT_EXTS = ('.png', '.tif', '.tiff')
ALPHA_EXTS = ('.png', '.tif', '.tiff', '.webp')
_16BIT_READ_EXTS = ('.png', '.tif', '.tiff')


class SPNMaskWarning(UserWarning):
    """A mask that looks wrong (inverted) or has no hole at all."""


class SPNFormatWarning(UserWarning):
    """The output format cannot keep the input's bit depth or alpha."""


def read_16bit(path: Union[str, os.PathLike]) -> Optional[np.ndarray]:
    """The pixels of a 16-bit PNG/TIFF as stored, RGB(A) order, or None.

    Args:
        path (str | PathLike): An image file.

    Returns:
        np.ndarray | None: (H, W), (H, W, 3) or (H, W, 4) ``uint16``; None
        for 8-bit files and other formats.
    """
    path = os.fspath(path)
    if osp.splitext(path)[1].lower() not in _16BIT_READ_EXTS:
        return None
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16:
        return None
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _to_8bit(arr: np.ndarray) -> np.ndarray:
    return np.rint(arr.astype(np.float64) / 257.).astype(np.uint8)


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
        deep = read_16bit(image)
        if deep is not None:
            deep = _to_8bit(deep)
            if deep.ndim == 2:
                return np.repeat(deep[..., None], 3, axis=2)
            return np.ascontiguousarray(deep[..., :3])
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
        deep = read_16bit(image) if osp.isfile(os.fspath(image)) else None
        if deep is not None:
            return _to_8bit(deep[..., 3]) if deep.ndim == 3 and \
                deep.shape[2] == 4 else None
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


def match_source(source: ImageInput, result: np.ndarray, holes: np.ndarray,
                 holes_from_alpha: bool = False) -> np.ndarray:
    """Put an 8-bit RGB result into the source file's bit depth and alpha.

    * a 16-bit source gives a 16-bit output of its channel layout whose
      known pixels are the source's 16-bit values; hole pixels are the
      result scaled by 257 (grey sources: the mean of the RGB result);
    * a source with an alpha channel keeps it; where the holes came from
      the alpha channel (``holes_from_alpha``) the filled pixels become
      opaque;
    * anything else (8-bit without alpha, arrays, PIL images) returns
      ``result`` unchanged.

    Args:
        source (str | PathLike | np.ndarray | PIL.Image.Image): The input.
        result (np.ndarray): (H, W, 3) uint8 RGB inpainted image.
        holes (np.ndarray): (H, W) bool, True = filled pixel.
        holes_from_alpha (bool): The holes are the source's transparent
            pixels. Default: False.

    Returns:
        np.ndarray: (H, W, 3|4) uint8 or (H, W[, 3|4]) uint16.
    """
    if not isinstance(source, (str, os.PathLike)):
        return result
    deep = read_16bit(source)
    if deep is None:
        alpha = read_alpha(source)
        if alpha is None:
            return result
        alpha = alpha.copy()
        if holes_from_alpha:
            alpha[holes] = 255
        return np.dstack([result, alpha])
    out = deep.copy()
    fill = result.astype(np.uint16) * 257
    if out.ndim == 2:
        grey = np.rint(result.astype(np.float64).mean(axis=2) * 257.)
        out[holes] = grey.astype(np.uint16)[holes]
        return out
    out[..., :3][holes] = fill[holes]
    if out.shape[2] == 4 and holes_from_alpha:
        out[..., 3][holes] = 65535
    return out


def write_image(path: Union[str, os.PathLike], image: np.ndarray) -> None:
    """Write an image atomically (temp file + rename), creating parents.

    A killed run leaves either the previous file or the complete new one,
    never a truncated image. ``uint16`` images keep 16 bits in PNG/TIFF;
    other formats get 8 bits with a :class:`SPNFormatWarning`; an alpha
    channel is dropped (with a warning) by formats without one (JPEG, BMP).

    Args:
        path (str | PathLike): Output file; the format follows the suffix.
        image (np.ndarray): (H, W, 3|4) or (H, W) ``uint8``/``uint16``, RGB(A).
    """
    path = os.fspath(path)
    parent = osp.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    ext = osp.splitext(path)[1].lower()
    image = np.asarray(image)
    if image.dtype == np.uint16 and ext not in SIXTEEN_BIT_EXTS:
        warnings.warn(
            f'{path}: {ext or "this format"} cannot store 16-bit samples: '
            'writing 8 bits (use .png or .tif to keep 16 bits)',
            SPNFormatWarning,
            stacklevel=2)
        image = _to_8bit(image)
    if image.ndim == 3 and image.shape[2] == 4 and ext not in ALPHA_EXTS:
        warnings.warn(
            f'{path}: {ext or "this format"} has no alpha channel: the '
            'transparency is dropped (use .png to keep it)',
            SPNFormatWarning,
            stacklevel=2)
        image = image[..., :3]
    base = osp.basename(path)
    tmp = osp.join(parent, f'.{base}.tmp{os.getpid()}{ext}')
    try:
        if image.dtype == np.uint16:
            bgr = image
            if image.ndim == 3:
                code = cv2.COLOR_RGB2BGR if image.shape[2] == 3 \
                    else cv2.COLOR_RGBA2BGRA
                bgr = cv2.cvtColor(image, code)
            if not cv2.imwrite(tmp, bgr):
                raise OSError(f'cannot write {path!r}')
        else:
            Image.fromarray(np.ascontiguousarray(image)).save(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
