"""A local web page to inpaint your own photos with a trained SPN.

    python tools/web_demo.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 7860]

Open the printed address, upload a photo, paint the hole (or upload a
mask), press Inpaint and download the PNG. The same server answers
``POST /api/inpaint`` and ``GET /api/health`` (docs/usage.md). Needs the
``web`` extra (``pip install -e .[web]``; tools/install.sh installs it).
"""
import argparse
import logging
import sys
from typing import List, Optional

from spn_mm.apis.hd_strategy import HD_STRATEGIES  # noqa: E402
from spn_mm.web.security import (RequestGuard, bind_warning,  # noqa: E402
                                 is_loopback)
from spn_mm.web.service import (PRECISIONS, InpaintService,  # noqa: E402
                                WebLimits)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Local web demo: paint a mask on a photo and inpaint it '
        'with an SPN model',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='trained or converted checkpoint')
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to bind; anything but 127.0.0.1/localhost exposes the '
        'demo to the network (a warning is printed)')
    parser.add_argument('--port', type=int, default=7860, help='TCP port')
    parser.add_argument(
        '--allowed-host',
        action='append',
        default=[],
        metavar='NAME',
        help='extra host name the page is opened by (Host header check '
        'against DNS rebinding), e.g. the machine name with --host 0.0.0.0; '
        'repeatable')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument(
        '--precision',
        default='fp32',
        choices=PRECISIONS,
        help='inference precision (fp16: CUDA only; bf16 is faster than '
        'fp32 only on CPUs with AVX-512-BF16/AMX)')
    parser.add_argument(
        '--hd-strategy',
        choices=HD_STRATEGIES,
        default='original',
        help='default HD strategy (the page can choose per request)')
    parser.add_argument(
        '--max-upload-mb',
        type=float,
        default=20.0,
        help='largest request body (image + mask) in MB')
    parser.add_argument(
        '--max-image-pixels',
        type=int,
        default=25_000_000,
        help='largest photo accepted (width x height)')
    parser.add_argument(
        '--max-samples', type=int, default=8,
        help='largest sample count (probabilistic models)')
    parser.add_argument(
        '--max-queue',
        type=int,
        default=8,
        help='requests that may wait for the model (one runs at a time); '
        'more are answered 503')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        import uvicorn

        from spn_mm.web.app import create_app, describe
    except ImportError as err:
        print(f'error: the web demo needs the web extra ({err.name} is '
              'missing): pip install -e .[web]  (or -r requirements/web.txt)',
              file=sys.stderr)
        return 1
    if not 0 < args.port < 65536:
        print(f'error: --port: expected 1..65535, got {args.port}',
              file=sys.stderr)
        return 1
    if args.max_upload_mb <= 0 or args.max_image_pixels <= 0 or \
            args.max_samples < 1 or args.max_queue < 1:
        print('error: --max-upload-mb, --max-image-pixels, --max-samples '
              'and --max-queue must be positive', file=sys.stderr)
        return 1
    limits = WebLimits(
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_image_pixels=args.max_image_pixels,
        max_samples=args.max_samples)
    service = InpaintService.from_files(
        args.config, args.checkpoint, device=args.device,
        precision=args.precision, hd_strategy=args.hd_strategy,
        limits=limits)
    warning = bind_warning(args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
        if not args.allowed_host and not is_loopback(args.host):
            print('note: only requests addressed to '
                  f'{args.host} or a loopback name are served; add '
                  '--allowed-host NAME for the name you open it by',
                  file=sys.stderr, flush=True)
    guard = RequestGuard(args.host, args.port, args.allowed_host)
    app = create_app(service, guard, max_queue=args.max_queue)
    print(describe(service, args.host, args.port), flush=True)
    logging.getLogger('spn_mm.web').addHandler(logging.StreamHandler())
    uvicorn.run(app, host=args.host, port=args.port, log_level='warning',
                access_log=False, server_header=False)
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
