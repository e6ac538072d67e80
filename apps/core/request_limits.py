"""Request bodies over their size limit are refused with 413 before they are read.

Django's ASGI handler reads a whole body (to disk past 2.5 MB) before its first middleware
runs, so the refusal has to come earlier, from ``RequestBodyLimitASGI`` wrapped around the ASGI
application: by the declared ``Content-Length`` before a byte is read, and by counting, for a
body sent without one (chunked). ``RequestBodyLimitMiddleware``, first in ``MIDDLEWARE``, gives
the same answer where Django reads lazily (WSGI, the test client) and behind an ASGI server that
was started without the wrapper.

The limit is ``settings.REQUEST_MAX_BODY_BYTES``, or the larger one of the longest matching
prefix in ``settings.REQUEST_MAX_BODY_BYTES_BY_PATH`` (document uploads).
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext

TOO_LARGE_STATUS = 413
PLAIN_TEXT = "text/plain; charset=utf-8"
# The REST API answers every error as an RFC 9457 problem (apps.api.errors), this one too.
API_PATH_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"


def request_body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    by_path = settings.REQUEST_MAX_BODY_BYTES_BY_PATH
    prefixes = [prefix for prefix in by_path if path.startswith(prefix)]
    if not prefixes:
        return settings.REQUEST_MAX_BODY_BYTES
    return by_path[max(prefixes, key=len)]


def too_large_text() -> str:
    return gettext("Request body too large.") + "\n"


def too_large_answer(path: str) -> tuple[str, bytes]:
    """The content type and body of the 413 for ``path``: a problem under ``/api/``, else
    plain text."""
    if not path.startswith(API_PATH_PREFIX):
        return PLAIN_TEXT, too_large_text().encode()
    limit = request_body_limit(path)
    problem = {
        "type": "/api/v1/problems/request-too-large",
        "title": HTTPStatus(TOO_LARGE_STATUS).phrase,
        "status": TOO_LARGE_STATUS,
        "detail": gettext("The request body is over the %(limit)s-byte limit of this address.")
        % {"limit": f"{limit:,}"},
    }
    return PROBLEM_JSON, json.dumps(problem).encode()


def _declared_length(value: str | bytes | None) -> int | None:
    """The Content-Length as a number; None when absent or malformed (the server or Django
    rejects a malformed one itself)."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


class RequestBodyLimitMiddleware:
    """Django middleware: 413 for a declared length over the limit, before the body is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = _declared_length(request.META.get("CONTENT_LENGTH"))
        if declared is not None and declared > request_body_limit(request.path):
            # No "Connection: close" here: WSGI forbids hop-by-hop headers from the application.
            content_type, body = too_large_answer(request.path)
            return HttpResponse(body, status=TOO_LARGE_STATUS, content_type=content_type)
        return self.get_response(request)


class RequestBodyLimitASGI:
    """ASGI middleware around the whole application (HTTP only; WebSockets pass through)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = request_body_limit(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = _declared_length(headers.get(b"content-length"))
        if declared is not None and declared > limit:
            # Nothing is read: the server sends no "100 Continue", and closes the connection.
            return await too_large_send(send, scope["path"])
        await self._serve_counting(scope, receive, send, limit)

    async def _serve_counting(self, scope, receive, send, limit: int) -> None:
        """Serve the request, ending it once more than ``limit`` bytes of body arrived: the
        application is told the client went away (Django then answers nothing), and 413 is
        sent in its place."""
        received = 0
        over_limit = False
        response_started = False

        async def receive_within_limit():
            nonlocal received, over_limit
            if over_limit:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over_limit = True
                    return {"type": "http.disconnect"}
            return message

        async def send_tracking_start(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, receive_within_limit, send_tracking_start)
        if over_limit and not response_started:
            await too_large_send(send, scope["path"])


async def too_large_send(send, path: str) -> None:
    content_type, body = too_large_answer(path)
    await body_send(send, TOO_LARGE_STATUS, body, content_type=content_type, close=True)


async def plain_text_send(
    send, status: int, text: str, *, close: bool = False, headers: tuple = ()
) -> None:
    """A whole short plain-text response, sent by ASGI middleware in Django's place.
    ``close``: the body was not read, so the connection cannot serve another request."""
    await body_send(send, status, text.encode(), close=close, headers=headers)


async def body_send(
    send,
    status: int,
    body: bytes,
    *,
    content_type: str = PLAIN_TEXT,
    close: bool = False,
    headers: tuple = (),
) -> None:
    extra = [(b"connection", b"close")] if close else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *extra,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
