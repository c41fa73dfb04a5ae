"""Inpaint your own images with a trained (or converted official) SPN.

Single image::

    python tools/inpaint.py CONFIG CHECKPOINT --image photo.jpg \
        --mask mask.png --out result.png

Folders (masks matched by file stem, ``<stem>.*`` or ``<stem>_mask.*``)::

    python tools/inpaint.py CONFIG CHECKPOINT --image photos/ \
        --mask masks/ --out results/

A pairing CSV (columns ``image,mask`` and optionally ``output``; relative
paths are relative to the CSV file; a header row is optional)::

    python tools/inpaint.py CONFIG CHECKPOINT --pairs pairs.csv --out results/

Masks: ``--hole white`` (default: white = hole), ``black`` or ``alpha``
(transparent = hole; without ``--mask`` the image's own alpha is used).
JPEG masks are binarised at 128. A mask with more than 90% holes is
reported as probably inverted; a mask without holes gives the input back
unchanged (with a notice). Any image size works (``--hd-strategy``); known
pixels are always copied from the input at native resolution.

Memory: ``--low-memory auto`` (default) runs the generator's exact
low-memory path (row stripes; the same result up to float32 rounding, see
benchmarks/README.md) for network inputs above 512x512 pixels; ``on`` /
``off`` force it.

Probabilistic models: ``--num-samples K --seed S`` writes ``<name>_sample<k>``
files (or one ``--grid`` image with the samples side by side). The same seed
gives the same samples.

Folder and CSV runs process every good pair, report each bad one (file +
reason) at the end and write a JSON summary (``--summary``, default
``<out>/inpaint_summary.json``); ``--skip-existing`` resumes an interrupted
run. Outputs are written atomically (temp file + rename). 16-bit PNG/TIFF
inputs give 16-bit outputs, an alpha channel is kept (filled holes become
opaque when the holes came from it). See docs/reliability.md.

Exit status: 0 when every image was written (or skipped), 1 otherwise; user
errors print one line (``--debug`` shows the traceback).
"""
import argparse
import csv
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional, Tuple


import spn_mm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402

from spn_mm.apis import (
    HD_STRATEGIES,
    HOLE_CONVENTIONS,  # noqa: E402
    PRECISIONS,
    SPNInpainter,
    load_mask,
    match_source,
    write_image)
from spn_mm.utils import one_line  # noqa: E402
from spn_mm.apis.hd_strategy import (
    DEFAULT_CROP_MARGIN,  # noqa: E402
    DEFAULT_MAX_PIXELS,
    DEFAULT_RESIZE_LIMIT)

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')

Pair = Tuple[str, Optional[str], str]  # image, mask, output path
#: Errors caused by the user's input: one line, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, TypeError, OSError)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Inpaint images with an SPN model',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='trained or converted checkpoint')
    parser.add_argument('--image', help='image file or folder of images')
    parser.add_argument('--mask', help='mask file or folder of masks')
    parser.add_argument(
        '--pairs',
        help='CSV with image,mask[,output] columns (instead of '
        '--image/--mask)')
    parser.add_argument(
        '--out',
        default='inpainted',
        help='output file (single image) or folder')
    parser.add_argument(
        '--ext', default='png', help='output format for folder outputs')
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default='fp32',
        help='inference precision: fp32 (reference), bf16 (autocast), fp16 '
        '(CUDA only)')
    parser.add_argument(
        '--low-memory',
        choices=['auto', 'on', 'off'],
        default='auto',
        help='exact low-memory generator path (row stripes, same result '
        'up to float32 rounding): auto = on for network inputs above '
        '512x512 pixels')
    parser.add_argument(
        '--hole',
        choices=HOLE_CONVENTIONS,
        default='white',
        help='which mask pixels are holes')
    parser.add_argument(
        '--dilate', type=int, default=0, help='grow holes by N pixels')
    parser.add_argument(
        '--hd-strategy',
        choices=HD_STRATEGIES,
        default='original',
        help='original: reflect-pad to the model multiple at native size; '
        'crop: holes + margin only; resize: shrink to --resize-limit')
    parser.add_argument(
        '--max-pixels',
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help='largest network input (pixels) for original/crop')
    parser.add_argument(
        '--crop-margin',
        type=int,
        default=DEFAULT_CROP_MARGIN,
        help='context pixels around the holes for --hd-strategy crop')
    parser.add_argument(
        '--resize-limit',
        type=int,
        default=DEFAULT_RESIZE_LIMIT,
        help='longest network side for --hd-strategy resize')
    parser.add_argument(
        '--num-samples',
        type=int,
        default=1,
        help='samples per image (probabilistic models)')
    parser.add_argument(
        '--seed', type=int, default=None, help='sampling seed (per image)')
    parser.add_argument(
        '--sample',
        choices=['random', 'mean'],
        default='random',
        help="'mean' uses z = mu (one deterministic result)")
    parser.add_argument(
        '--grid',
        action='store_true',
        help='write the samples of an image side by side in one file')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument(
        '--skip-existing',
        action='store_true',
        help='folder/CSV runs: skip images whose output file(s) exist '
        '(resume an interrupted run)')
    parser.add_argument(
        '--summary',
        help='folder/CSV runs: JSON summary file (default: '
        '<out>/inpaint_summary.json)')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of user errors')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def _is_image(path: str) -> bool:
    return osp.splitext(path)[1].lower() in IMAGE_EXTS


def _list_images(folder: str) -> List[str]:
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if _is_image(f) and osp.isfile(osp.join(folder, f)))


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def _match_masks(images: List[str], mask_dir: str) -> Tuple[dict, List[str]]:
    by_stem = {}
    for path in _list_images(mask_dir):
        by_stem.setdefault(_stem(path), path)
    found, missing = {}, []
    for img in images:
        stem = _stem(img)
        mask = by_stem.get(stem) or by_stem.get(stem + '_mask')
        if mask is None:
            missing.append(img)
        else:
            found[img] = mask
    return found, missing


def _read_pairs_csv(path: str, out_dir: str, ext: str) -> List[Pair]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'--pairs: CSV file not found: {path!r}')
    root = osp.dirname(osp.abspath(path))
    with open(path, newline='') as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if rows and rows[0][0].strip().lower() == 'image':
        rows = rows[1:]
    if not rows:
        raise ValueError(f'--pairs: {path!r} has no rows (expected '
                         'image,mask[,output])')
    pairs = []
    for n, row in enumerate(rows, 1):
        if len(row) < 2:
            raise ValueError(f'--pairs: {path!r} row {n} needs at least '
                             f'image,mask columns, got {row}')
        img, msk = (osp.join(root, c.strip()) for c in row[:2])
        if len(row) > 2 and row[2].strip():
            out = osp.join(out_dir, row[2].strip())
        else:
            out = osp.join(out_dir, f'{_stem(img)}.{ext}')
        pairs.append((img, msk, out))
    return pairs


def collect_pairs(
        args: argparse.Namespace) -> Tuple[List[Pair], bool, List[dict]]:
    """The (image, mask, output) jobs, whether it is a folder run, and the
    images that cannot be paired (``{'image', 'mask', 'reason'}``)."""
    ext = args.ext.lstrip('.')
    if args.pairs:
        if args.image or args.mask:
            raise ValueError('give either --pairs or --image/--mask')
        return _read_pairs_csv(args.pairs, args.out, ext), True, []
    if not args.image:
        raise ValueError('nothing to do: give --image (file or folder) and '
                         '--mask, or --pairs CSV')
    if args.mask is None and args.hole != 'alpha':
        raise ValueError('--mask is required unless --hole alpha (then the '
                         "image's own transparent pixels are the holes)")
    if osp.isdir(args.image):
        images = _list_images(args.image)
        if not images:
            raise ValueError(f'--image folder {args.image!r} has no images '
                             f'({", ".join(IMAGE_EXTS)})')
        if args.mask is not None:
            if not osp.isdir(args.mask):
                raise ValueError(f'--image is a folder, so --mask must be a '
                                 f'folder too; got {args.mask!r}')
            masks, missing = _match_masks(images, args.mask)
            unpaired = [
                dict(
                    image=m,
                    mask=None,
                    reason=f'no mask in {args.mask!r} (expected '
                    f'{_stem(m)}.* or {_stem(m)}_mask.*)') for m in missing
            ]
            images = [i for i in images if i in masks]
        else:
            unpaired = []
            masks = {img: None for img in images}
        if _is_image(args.out):
            raise ValueError(f'--out must be a folder for a folder of '
                             f'images, got {args.out!r}')
        outs = [osp.join(args.out, f'{_stem(i)}.{ext}') for i in images]
        dup = {o for o in outs if outs.count(o) > 1}
        if dup:
            raise ValueError(f'several images would be written to '
                             f'{sorted(dup)[0]!r} (same stem); rename them')
        return [(i, masks[i], o)
                for i, o in zip(images, outs)], True, unpaired
    if not osp.isfile(args.image):
        raise FileNotFoundError(f'--image: file not found: {args.image!r}')
    if args.mask is not None and not osp.isfile(args.mask):
        raise FileNotFoundError(f'--mask: file not found: {args.mask!r}')
    out = args.out if _is_image(args.out) else osp.join(
        args.out, f'{_stem(args.image)}.{ext}')
    return [(args.image, args.mask, out)], False, []


def sample_paths(out: str, num_samples: int, grid: bool) -> List[str]:
    """Output file(s) of one image."""
    if num_samples == 1 or grid:
        return [out]
    base, ext = osp.splitext(out)
    return [f'{base}_sample{k}{ext}' for k in range(num_samples)]


def _write(result, out: str, num_samples: int, grid: bool,
           native) -> List[str]:
    """Write the result(s) of one image; ``native`` maps an 8-bit RGB
    result to the input's bit depth and alpha (:func:`match_source`)."""
    import numpy as np
    paths = sample_paths(out, num_samples, grid)
    if num_samples == 1:
        write_image(out, native(result))
    elif grid:
        write_image(out,
                    np.concatenate([native(r) for r in result], axis=1))
    else:
        for k, path in enumerate(paths):
            write_image(path, native(result[k]))
    return paths


def _native_format(args: argparse.Namespace, image: str,
                   mask: Optional[str]):
    """The :func:`match_source` mapping of one input (holes re-read)."""
    holes = load_mask(
        image if mask is None else mask,
        hole=args.hole,
        dilate=args.dilate,
        warn=False)
    from_alpha = args.hole == 'alpha' and mask is None
    return lambda result: match_source(image, result, holes, from_alpha)


def write_summary(path: str, summary: dict) -> None:
    """Write the run summary JSON atomically."""
    import json
    parent = osp.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(summary, f, indent=2)
    os.replace(tmp, path)


def _progress(pairs, enabled: bool):

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    if not enabled:
        return pairs, log
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return pairs, log
    bar = tqdm(pairs, desc='inpainting', unit='img', file=sys.stderr)
    return bar, lambda msg: tqdm.write(msg, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """The run behind :func:`main` (user errors raise)."""
    if args.num_samples < 1:
        raise ValueError('--num-samples must be >= 1')
    pairs, folder, failures = collect_pairs(args)
    unpaired = len(failures)
    try:
        inpainter = SPNInpainter(
            args.config,
            args.checkpoint,
            device=args.device,
            hd_strategy=args.hd_strategy,
            max_pixels=args.max_pixels,
            crop_margin=args.crop_margin,
            resize_limit=args.resize_limit,
            batch_size=1,
            cfg_options=args.cfg_options,
            precision=args.precision,
            low_memory=dict(auto=None, on=True, off=False)[args.low_memory])
    except RuntimeError as err:  # e.g. CUDA requested but not available
        raise ValueError(one_line(err)) from err
    if args.num_samples > 1 and not inpainter.is_probabilistic:
        print(
            'warning: deterministic model: the samples will be identical',
            file=sys.stderr)

    written, skipped = [], []
    items, log = _progress(pairs, folder and len(pairs) > 1)
    for image, mask, out in items:
        targets = sample_paths(out, args.num_samples, args.grid)
        if args.skip_existing and all(osp.isfile(t) for t in targets):
            skipped.append(image)
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                result = inpainter.inpaint(
                    image,
                    mask,
                    num_samples=args.num_samples,
                    seed=args.seed,
                    hole=args.hole,
                    dilate=args.dilate,
                    sample=args.sample)
                paths = _write(result, out, args.num_samples, args.grid,
                               _native_format(args, image, mask))
            for w in caught:
                if issubclass(w.category, UserWarning) and \
                        'deterministic' not in str(w.message):
                    log(f'warning: {w.message}')
            written.append(image)
            if not folder:
                for p in paths:
                    print(f'wrote {p}')
        except USER_ERRORS as err:
            failures.append(dict(image=image, mask=mask,
                                 reason=one_line(err)))
            if not folder:
                raise
            log(f'error: {image}: {one_line(err)}')
    if not folder:
        return 0
    summary_path = args.summary or osp.join(args.out, 'inpaint_summary.json')
    write_summary(
        summary_path,
        dict(
            total=len(pairs) + unpaired,
            written=len(written),
            skipped=len(skipped),
            failed=len(failures),
            failures=failures,
            out=args.out))
    print(f'wrote {len(written)} of {len(pairs) + unpaired} image(s) to '
          f'{args.out}'
          + (f', skipped {len(skipped)} existing' if skipped else ''))
    if failures:
        print(f'{len(failures)} image(s) failed:', file=sys.stderr)
        for f in failures:
            print(f"  {f['image']}: {f['reason']}", file=sys.stderr)
        print(f'summary: {summary_path}', file=sys.stderr)
        return 1
    print(f'summary: {summary_path}')
    return 0


def main(argv=None) -> int:
    """Parse arguments and run; a user error prints one line, exit 1."""
    args = parse_args(argv)
    try:
        return run(args)
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f'error: {one_line(err)}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
