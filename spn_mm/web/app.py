"""The Starlette app of the web demo: the page, ``GET /api/health`` and
``POST /api/inpaint``.

Uploads are parsed in memory (the multipart spool never rolls over to
disk: the body is capped below the spool size), one inference runs at a
time (an :class:`asyncio.Lock`; waiting requests queue up to
``max_queue``), and every refusal is a one-line JSON ``{"error": ...}``.
"""
import asyncio
import base64
import json
import logging
import os.path as osp
from typing import AsyncIterator, Dict

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .security import RequestGuard
from .service import InpaintService, WebInputError, encode_png, encode_zip

STATIC_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'static')
STATIC_FILES = {
    'index.html': 'text/html; charset=utf-8',
    'app.js': 'text/javascript; charset=utf-8',
    'style.css': 'text/css; charset=utf-8',
}
#: Sent with every answer: no framing, no MIME sniffing, only own scripts.
SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy':
    "default-src 'self'; img-src 'self' blob: data:; "
    "frame-ancestors 'none'; form-action 'self'",
    'Cache-Control': 'no-store',
}
FORM_FIELDS = ('image', 'mask', 'num_samples', 'seed', 'hd_strategy',
               'format')
logger = logging.getLogger('spn_mm.web')


def error(status: int, message: str) -> JSONResponse:
    """A one-line JSON error."""
    return JSONResponse({'error': message}, status_code=status,
                        headers=SECURITY_HEADERS)


class GuardMiddleware:
    """Refuse requests with a foreign Host or a cross-origin POST."""

    def __init__(self, app: ASGIApp, guard: RequestGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode('latin-1').lower(): v.decode('latin-1')
            for k, v in scope.get('headers', [])
        }
        refusal = self.guard.check(scope['method'], headers)
        if refusal is not None:
            await error(*refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body, refused once it grows over ``limit`` bytes."""
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise WebInputError(
                f'request: body over the {limit / 2**20:.1f} MB upload '
                'limit (image + mask); use a smaller photo', 413)
        yield chunk


async def read_form(request: Request, limit: int) -> Dict[str, object]:
    """Parse a multipart form in memory: files as bytes, fields as str."""
    ctype = request.headers.get('content-type', '')
    if not ctype.startswith('multipart/form-data'):
        raise WebInputError('request: expected multipart/form-data with '
                            'fields image and mask (curl -F)')
    length = request.headers.get('content-length')
    if length is not None and length.isdigit() and int(length) > limit:
        raise WebInputError(
            f'request: body of {int(length) / 2**20:.1f} MB is over the '
            f'{limit / 2**20:.1f} MB upload limit (image + mask)', 413)
    parser = MultiPartParser(
        request.headers, _capped(request, limit), max_files=2, max_fields=8,
        max_part_size=64 * 1024)
    parser.spool_max_size = limit + 1  # never spill uploads to disk
    try:
        form = await parser.parse()
    except MultiPartException as err:
        raise WebInputError(f'request: bad multipart form ({err})') from None
    out: Dict[str, object] = {}
    try:
        for key, value in form.multi_items():
            if key not in FORM_FIELDS:
                raise WebInputError(f'{key}: unknown field; expected '
                                    f'{", ".join(FORM_FIELDS)}')
            if isinstance(value, UploadFile):
                out[key] = await value.read()
            else:
                out[key] = value
    finally:
        await form.close()
    return out


def create_app(service: InpaintService,
               guard: RequestGuard,
               max_queue: int = 8) -> Starlette:
    """Build the ASGI app.

    Args:
        service (InpaintService): The model.
        guard (RequestGuard): Host/Origin checks.
        max_queue (int): Requests allowed to wait for the model; more are
            answered 503.

    Returns:
        Starlette: The app (wrapped by the guard middleware).
    """
    lock = asyncio.Lock()
    state = {'waiting': 0}

    async def static(request: Request) -> Response:
        name = request.path_params.get('name', 'index.html')
        if name not in STATIC_FILES:  # fixed list: no paths from the client
            return error(404, f'not found: {request.url.path}')
        return FileResponse(
            osp.join(STATIC_DIR, name), media_type=STATIC_FILES[name],
            headers=SECURITY_HEADERS)

    async def health(request: Request) -> Response:
        info = service.health()
        info['waiting'] = state['waiting']
        return JSONResponse(info, headers=SECURITY_HEADERS)

    async def inpaint(request: Request) -> Response:
        try:
            form = await read_form(request,
                                   service.limits.max_upload_bytes)
            for key in ('image', 'mask'):
                if not isinstance(form.get(key), bytes):
                    raise WebInputError(f'{key}: missing; expected an image '
                                        f'file upload (curl -F {key}=@FILE)')
            fmt = form.get('format') or 'auto'
            if fmt not in ('auto', 'png', 'zip', 'json'):
                raise WebInputError(f'format: expected auto, png, zip or '
                                    f'json, got {fmt!r}')
            options = service.parse_options(
                form.get('num_samples'), form.get('seed'),
                form.get('hd_strategy'))
            if fmt == 'png' and options['num_samples'] > 1:
                raise WebInputError('format: png holds one image; use zip or '
                                    'json for num_samples > 1')
            if state['waiting'] >= max_queue:
                raise WebInputError(
                    f'server busy: {state["waiting"]} requests are waiting '
                    'for the model; try again later', 503)
            state['waiting'] += 1
            try:
                async with lock:
                    result = await run_in_threadpool(
                        service.run, form['image'], form['mask'], options)
            finally:
                state['waiting'] -= 1
        except WebInputError as err:
            return error(err.status, str(err))
        except Exception:  # never a stack trace to the client
            logger.exception('inpainting failed')
            return error(500, 'internal error: inference failed (the server '
                         'log has the details)')
        headers = dict(SECURITY_HEADERS)
        headers.update({
            'X-SPN-Hole-Pixels': str(result.hole_pixels),
            'X-SPN-HD-Strategy': result.hd_strategy,
            'X-SPN-Seconds': f'{result.seconds:.3f}',
        })
        if result.seed is not None:
            headers['X-SPN-Seed'] = str(result.seed)
        if result.warnings:
            headers['X-SPN-Warning'] = ' | '.join(result.warnings)[:300]
        if fmt == 'json':
            body = {
                'images': [
                    'data:image/png;base64,' +
                    base64.b64encode(encode_png(im)).decode('ascii')
                    for im in result.images
                ],
                'seed': result.seed,
                'hole_pixels': result.hole_pixels,
                'hd_strategy': result.hd_strategy,
                'seconds': round(result.seconds, 3),
                'warnings': result.warnings,
            }
            return Response(json.dumps(body), media_type='application/json',
                            headers=headers)
        if len(result.images) == 1 and fmt != 'zip':
            return Response(encode_png(result.images[0]),
                            media_type='image/png', headers=headers)
        headers['Content-Disposition'] = 'attachment; filename="samples.zip"'
        return Response(encode_zip(result.images),
                        media_type='application/zip', headers=headers)

    async def not_allowed(request: Request) -> Response:
        return error(405, f'{request.method} {request.url.path}: method not '
                     'allowed')

    routes = [
        Route('/', static, methods=['GET']),
        Route('/static/{name}', static, methods=['GET']),
        Route('/api/health', health, methods=['GET']),
        Route('/api/inpaint', inpaint, methods=['POST']),
    ]
    app = Starlette(routes=routes)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, 'status_code', 404)
        if status == 405:
            return await not_allowed(request)
        return error(status, f'{request.url.path}: not found')

    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, not_found)
    app.add_middleware(GuardMiddleware, guard=guard)
    return app


def describe(service: InpaintService, host: str,
             port: int) -> str:
    """The start-up line printed by the CLI."""
    info = service.health()
    return (f'SPN web demo: {info["model"]} ({info["variant"]}, '
            f'{info["device"]}, {info["precision"]}) at http://'
            f'{host if ":" not in host else "[" + host + "]"}:{port}/')
