"""Request checks of the local web demo: Host (DNS rebinding) and Origin
(CSRF), with no web framework dependency so that they are unit-testable.

A page on ``http://evil.example`` can make a browser send requests to
``127.0.0.1:7860`` in two ways:

* **cross-origin POSTs** (a form or ``fetch`` with ``mode: 'no-cors'``): the
  browser adds an ``Origin`` header (and usually ``Referer`` and
  ``Sec-Fetch-Site: cross-site``); such POSTs are refused;
* **DNS rebinding**: ``evil.example`` is re-pointed at 127.0.0.1, so the
  request is same-origin for the browser but carries
  ``Host: evil.example:7860``; requests whose Host is not one of the
  server's own names are refused.
"""
import ipaddress
from typing import Iterable, Mapping, Optional, Tuple
from urllib.parse import urlsplit

#: Names that always mean "this machine" (they are never resolved remotely).
LOOPBACK_NAMES = ('127.0.0.1', 'localhost', '[::1]')


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host.strip('[]') == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host.strip('[]')).is_loopback
    except ValueError:
        return False


def bind_warning(host: str) -> Optional[str]:
    """The warning to print when binding somewhere other than loopback."""
    if is_loopback(host):
        return None
    return (f'WARNING: binding to {host}: anyone who can reach this machine '
            'on the network can use the demo (and its CPU/GPU). It has no '
            'login. Only do this on a network you trust; the default '
            '--host 127.0.0.1 is reachable from this machine only.')


def _split_host(value: str) -> Tuple[str, Optional[int]]:
    """``'name:port'`` / ``'[::1]:port'`` / ``'name'`` -> (name, port)."""
    value = value.strip().lower()
    if value.startswith('['):
        end = value.find(']')
        if end < 0:
            return value, None
        name, rest = value[:end + 1], value[end + 1:]
    else:
        name, _, rest = value.partition(':')
        rest = ':' + rest if rest else ''
    if not rest:
        return name, None
    try:
        return name, int(rest[1:])
    except ValueError:
        return name, -1


class RequestGuard:
    """Decide whether a request may be served.

    Args:
        host (str): The address the server is bound to.
        port (int): Its port.
        allowed_hosts (Iterable[str]): Extra host names (without port) the
            server is reached by, e.g. the machine's name when bound to
            ``0.0.0.0``. Loopback names are always allowed.
    """

    def __init__(self, host: str, port: int,
                 allowed_hosts: Iterable[str] = ()) -> None:
        self.port = int(port)
        names = {n.lower() for n in LOOPBACK_NAMES}
        bound = host.lower()
        if bound not in ('0.0.0.0', '::', '[::]'):
            names.add(f'[{bound}]' if ':' in bound and
                      not bound.startswith('[') else bound)
        for name in allowed_hosts:
            name = name.strip().lower()
            if name:
                names.add(f'[{name}]' if ':' in name and
                          not name.startswith('[') else name)
        self.names = frozenset(names)

    def host_ok(self, host_header: Optional[str]) -> bool:
        """Whether the ``Host`` header names this server (name and port)."""
        if not host_header:
            return False
        name, port = _split_host(host_header)
        if port is None:
            port = 80
        return name in self.names and port == self.port

    def origin_ok(self, origin: Optional[str]) -> bool:
        """Whether an ``Origin``/``Referer`` URL is this server's."""
        try:
            parts = urlsplit(origin or '')
        except ValueError:
            return False
        if parts.scheme != 'http' or not parts.netloc:
            return False
        return self.host_ok(parts.netloc)

    def check(self, method: str,
              headers: Mapping[str, str]) -> Optional[Tuple[int, str]]:
        """Check a request.

        Args:
            method (str): HTTP method.
            headers (Mapping[str, str]): Request headers (lower-case keys).

        Returns:
            tuple[int, str] | None: ``(status, message)`` to refuse the
            request with, or None when it may be served.
        """
        if not self.host_ok(headers.get('host')):
            return (421, f'Host: {headers.get("host")!r} is not this '
                    f'server (expected one of '
                    f'{", ".join(sorted(self.names))} with port '
                    f'{self.port}); refused to prevent DNS rebinding')
        if method.upper() in ('GET', 'HEAD', 'OPTIONS'):
            return None
        if headers.get('sec-fetch-site', '').lower() == 'cross-site':
            return (403, 'cross-site request refused (Sec-Fetch-Site: '
                    'cross-site); use the page served by this server')
        origin = headers.get('origin')
        if origin is not None:
            if not self.origin_ok(origin):
                return (403, f'Origin: {origin!r} is not this server; '
                        'cross-origin requests are refused (CSRF)')
            return None
        referer = headers.get('referer')
        if referer is not None and not self.origin_ok(referer):
            return (403, 'Referer is not a page of this server; '
                    'cross-origin requests are refused (CSRF)')
        return None  # no Origin/Referer: a non-browser client (curl)
