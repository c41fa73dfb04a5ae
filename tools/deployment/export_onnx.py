"""Export an SPN generator to ONNX and check it against PyTorch.

::

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT \
        --out spn.onnx [--shape 256 256] [--opset 17]

The graph has inputs ``image`` (B, 3, H, W) float32 RGB in [-1, 1],
``mask`` (B, 1, H, W) float32 (1 = hole) and, for probabilistic models,
``noise`` (B, 128, H/32, W/32) float32 standard normal (z = mu + noise *
sigma; zeros give the mean sample); outputs ``raw`` and ``inpainted``
(B, 3, H, W) in [-1, 1]. The batch axis is dynamic, H and W are fixed.
After export, onnxruntime runs a random batch of 2 and the max abs
difference to PyTorch is printed (must be < ``--atol``, default 1e-4;
exit status 1 otherwise). ``--no-check`` skips it.

Running it (numpy, onnxruntime)::

    import numpy as np, onnxruntime as ort
    sess = ort.InferenceSession('spn.onnx')
    img = rgb_uint8.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1
    hole = (mask_uint8 > 127).astype(np.float32)[None, None]
    feed = dict(image=img, mask=hole)
    # probabilistic models: one sample per noise draw
    # feed['noise'] = np.random.randn(1, 128, H // 32, W // 32).astype(
    #     np.float32)
    raw, inpainted = sess.run(None, feed)
    out = ((inpainted[0].transpose(1, 2, 0) + 1) * 127.5).round().clip(
        0, 255).astype(np.uint8)
"""
import argparse
import sys


import spn_mm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402

from spn_mm.apis import init_spn_model  # noqa: E402
from spn_mm.deployment import check_onnx_parity, export_onnx  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export the SPN inference generator to ONNX',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='trained or converted checkpoint (omit: random weights)')
    parser.add_argument('--out', default='spn.onnx', help='output file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[256, 256],
        help='input H W (or one value for a square)')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--no-dynamic-batch', action='store_true')
    parser.add_argument(
        '--no-check',
        action='store_true',
        help='skip the onnxruntime parity check')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the check inputs and noise')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    shape = tuple(args.shape) * (2 if len(args.shape) == 1 else 1)
    if len(shape) != 2:
        print('error: --shape takes H W or one value', file=sys.stderr)
        return 1
    model = init_spn_model(
        args.config,
        args.checkpoint,
        device='cpu',
        cfg_options=args.cfg_options)
    names = export_onnx(
        model.generator,
        args.out,
        shape=shape,
        opset=args.opset,
        dynamic_batch=not args.no_dynamic_batch)
    print(f'exported {args.out} (inputs {", ".join(names)}; outputs raw, '
          f'inpainted; {shape[0]}x{shape[1]}, opset {args.opset}, '
          f'{"static" if args.no_dynamic_batch else "dynamic"} batch)')
    if args.no_check:
        return 0
    batch = 1 if args.no_dynamic_batch else 2
    try:
        diffs = check_onnx_parity(
            model.generator,
            args.out,
            shape=shape,
            batch=batch,
            seed=args.seed,
            atol=args.atol)
    except AssertionError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for key, value in diffs.items():
        print(f'{key}: {value:.3e}')
    print(f'onnxruntime parity OK (max abs diff '
          f'{max(diffs.values()):.3e} < {args.atol:g})')
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
