"""One JSON POST for the HTTP judge: no credentials to other hosts, bounded size and time.

:func:`post_json` sends the request with ``urllib`` and reads the answer with three guarantees:

* **redirects stay on the judge's origin.** ``urllib`` follows a 301/302/303 and copies every
  header but the body's, ``Authorization: Bearer <key>`` included, to wherever the server points.
  A redirect to another scheme, host or port is refused with :class:`CrossHostRedirectError`
  (the key is never sent there); set the endpoint to the final URL instead;
* **the body is bounded**: more than ``max_bytes`` is a :class:`ResponseTooLargeError` (read
  stops at the limit: nothing larger is held in memory);
* **the deadline holds while reading**: the socket timeout only bounds each ``recv``, so a server
  trickling a byte at a time could hold a request forever. The body is read in chunks, the
  socket timeout is cut to what is left before ``deadline`` and the clock is checked between
  chunks; running out is a :class:`TimeoutError` (an ``OSError``, retried like any timeout).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "CrossHostRedirectError",
    "ResponseTooLargeError",
    "post_json",
]

DEFAULT_MAX_RESPONSE_BYTES = 1 << 20
"""A chat completion of a few tokens is well under a kilobyte; 1 MiB leaves ample room."""

_CHUNK = 1 << 14


class CrossHostRedirectError(urllib.error.URLError):
    """The judge endpoint redirected to another origin; the request was not forwarded."""

    def __str__(self) -> str:
        return str(self.reason)


class ResponseTooLargeError(ValueError):
    """The judge's answer exceeded the size limit."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urllib.parse.urljoin(req.full_url, newurl)
        if _origin(target) != _origin(req.full_url):
            raise CrossHostRedirectError(
                f"the judge endpoint {req.full_url} redirected (HTTP {code}) to another host, "
                f"{target}; refusing to follow it with the API key. Use the final URL as "
                "--judge_url if that host is meant"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameOriginRedirects)


def _set_socket_timeout(response: Any, seconds: float) -> None:
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 1e-3))


def _read_bounded(
    response: Any, url: str, max_bytes: int, deadline: float, clock: Callable[[], float]
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - clock()
        if left <= 0:
            raise TimeoutError(f"{url}: the answer did not arrive within the time budget")
        _set_socket_timeout(response, left)
        chunk = response.read1(min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLargeError(
                f"{url}: the answer is larger than {max_bytes} bytes (max_response_bytes); "
                "is this a chat-completions endpoint?"
            )


def post_json(
    url: str,
    body: Any,
    headers: dict[str, str],
    *,
    deadline: float,
    clock: Callable[[], float],
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Any:
    """POST ``body`` as JSON to ``url`` and return the decoded JSON answer (module docstring).

    Raises:
        urllib.error.HTTPError: an HTTP error status.
        CrossHostRedirectError: a redirect to another origin (a ``URLError``).
        ResponseTooLargeError: the answer exceeds ``max_bytes`` (a ``ValueError``).
        TimeoutError: ``deadline`` (on ``clock``) passed while connecting or reading.
        ValueError: the answer is not UTF-8 JSON.
    """
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    left = deadline - clock()
    if left <= 0:
        raise TimeoutError(f"{url}: no time left in the budget")
    with _OPENER.open(request, timeout=left) as response:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise ResponseTooLargeError(
                f"{url}: the answer announces {int(length)} bytes, more than {max_bytes} "
                "(max_response_bytes)"
            )
        raw = _read_bounded(response, url, max_bytes, deadline, clock)
    return json.loads(raw.decode("utf-8"))
