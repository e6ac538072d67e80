"""A local HTTP server to build protocol doubles on (Ollama, OpenAI, Slack Web API, ...).

A protocol double speaks a vendor's real wire format on 127.0.0.1, so tests drive the real
client library against it. A double is a subclass of ``ProtocolDouble`` that implements
``handle(request) -> Reply``; everything else is here. The API (stable, keep it small):

    class EchoDouble(ProtocolDouble):
        def handle(self, request: RecordedRequest) -> Reply:
            return Reply.json({"path": request.path})

    double = EchoDouble().start()          # also a context manager: ``with EchoDouble() as d``
    double.url                             # "http://127.0.0.1:<port>", no trailing slash
    double.requests                        # list[RecordedRequest], every request, in order
    double.requests_to("/api/chat")        # only those with this path
    double.wait_for_requests(2)            # blocks until 2 requests arrived (for async callers)
    double.stop()

    # Scripted faults, consumed one per matching request, before ``handle`` runs.
    # ``path=None`` matches any request; otherwise the path must be equal (no query string).
    double.fail_next(2, status=500)                    # the next 2 requests answer 500
    double.reply_next(Reply(body=b"not json"))         # the next request gets this reply
    double.close_next()                                # drop the connection, no answer
    double.delay_next(0.5)                             # wait 0.5 s, then answer normally
    double.cut_stream_next(after_chunks=1)             # send 1 chunk of the normal streamed
                                                       # reply, then drop the connection
    double.reset()                                     # forget requests and scripted faults

``RecordedRequest`` holds ``method``, ``path`` (no query), ``query`` (dict of lists),
``headers`` (lower-case names), ``body`` (bytes), ``json`` (parsed JSON body or None) and
``form`` (parsed ``application/x-www-form-urlencoded`` body, one value per name, or {}).

``Reply`` is ``status``, ``body`` (bytes), ``headers``, or ``chunks`` for a streamed body sent
with chunked transfer encoding (NDJSON, server-sent events); ``Reply.json(data, status=...)``
and ``Reply.stream(chunks, content_type=...)`` build the common ones.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any
    form: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # When set, the body is these chunks, each flushed as it is written (a streamed answer).
    chunks: Iterable[bytes] | None = None

    @classmethod
    def json(cls, data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def stream(cls, chunks: Iterable[bytes], *, content_type: str, status: int = 200) -> Reply:
        return cls(status=status, chunks=chunks, headers={"Content-Type": content_type})


@dataclass
class _ScriptedFault:
    kind: str  # "reply" | "close" | "delay" | "cut_stream"
    path: str | None
    reply: Reply | None = None
    delay_s: float = 0.0
    after_chunks: int = 0


class ProtocolDouble:
    """A threaded HTTP server on 127.0.0.1 (a free port) that records requests and answers
    with ``handle``, unless a scripted fault comes first."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply.json({"error": "not found"}, status=404)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._faults: list[_ScriptedFault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what was received -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def wait_for_requests(
        self, count: int, *, path: str | None = None, timeout_s: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests (to ``path``, if given) arrived; return them all."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self._requests if path is None or r.path == path]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(matching()) >= count, timeout=timeout_s):
                raise TimeoutError(
                    f"{type(self).__name__}: {len(matching())} of {count} requests"
                    f" to {path or 'any path'} after {timeout_s} s"
                )
            return matching()

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    # --- scripted faults -------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        body: Any = None,
        path: str | None = None,
    ) -> None:
        reply = Reply.json(
            body if body is not None else {"error": "scripted failure"}, status=status
        )
        self.reply_next(reply, count=count, path=path)

    def reply_next(self, reply: Reply, *, count: int = 1, path: str | None = None) -> None:
        self._script(count, _ScriptedFault("reply", path, reply=reply))

    def close_next(self, count: int = 1, *, path: str | None = None) -> None:
        self._script(count, _ScriptedFault("close", path))

    def delay_next(self, seconds: float, *, count: int = 1, path: str | None = None) -> None:
        self._script(count, _ScriptedFault("delay", path, delay_s=seconds))

    def cut_stream_next(self, *, after_chunks: int, path: str | None = None) -> None:
        self._script(1, _ScriptedFault("cut_stream", path, after_chunks=after_chunks))

    def _script(self, count: int, fault: _ScriptedFault) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    # --- used by the request handler -------------------------------------------------------

    def _receive(self, request: RecordedRequest) -> _ScriptedFault | None:
        """Record the request and take the first scripted fault that matches it."""
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
            for index, fault in enumerate(self._faults):
                if fault.path is None or fault.path == request.path:
                    return self._faults.pop(index)
        return None


def _handler_class_for(double: ProtocolDouble) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as real servers do
        # Small writes (headers, then each chunk) otherwise wait ~40 ms for the client's ACK.
        disable_nagle_algorithm = True

        def handle(self) -> None:
            # The client may give up first (its timeout, a dropped stream): nothing to report.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read ``double.requests``, not stderr

        def _serve(self) -> None:
            request = self._read_request()
            fault = double._receive(request)
            if fault is not None and fault.kind == "close":
                self.close_connection = True
                return
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.delay_s)
            if fault is not None and fault.kind == "reply":
                reply = fault.reply
            else:
                reply = double.handle(request)
            cut_after = (
                fault.after_chunks if fault is not None and fault.kind == "cut_stream" else None
            )
            self._write(reply, cut_after_chunks=cut_after)

        def _read_request(self) -> RecordedRequest:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            content_type = self.headers.get("Content-Type", "")
            parsed_json = None
            form: dict[str, str] = {}
            if body and "json" in content_type:
                try:
                    parsed_json = json.loads(body)
                except ValueError:
                    parsed_json = None
            elif body and "x-www-form-urlencoded" in content_type:
                # Binary uploads arrive under this content type too (urllib's default):
                # undecodable bytes must not crash the server; the raw body stays in ``body``.
                text = body.decode("utf-8", "replace")
                form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
            return RecordedRequest(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                json=parsed_json,
                form=form,
            )

        def _write(self, reply: Reply, *, cut_after_chunks: int | None) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunks is None:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for sent, chunk in enumerate(reply.chunks):
                if cut_after_chunks is not None and sent >= cut_after_chunks:
                    # Drop the connection mid-body: the client sees an incomplete chunked read.
                    self.close_connection = True
                    return
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

    return _Handler
