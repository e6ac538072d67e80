"""``http_probe``: one GET to an allow-listed URL, within a time and a size budget.

The request goes through httpcore (the transport under httpx) with a network backend of our
own, for two guarantees httpx's options alone do not give:

- **pinned addresses**: the backend connects only to the addresses ``address_policy`` checked
  for that host and port, so DNS cannot answer differently between the check and the
  connection; the URL keeps its host name, so the Host header, SNI and the certificate check
  all use the name;
- **one deadline**: every connect, read, write and TLS handshake is clamped to what is left of
  ``timeout_s``, so a server that trickles bytes cannot hold the probe past it.

Nothing is read from the environment (no proxy, no .netrc)."""

from __future__ import annotations

import select
import socket
import ssl
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpcore
import httpx
from django.conf import settings

from apps.tools.checks.address_policy import (
    ResolutionFailed,
    connection_addresses,
    host_normalize,
    host_port_text,
)
from apps.tools.checks.base import CheckRefused, Deadline, ProbeHop, ProbeResult, text_clean
from apps.tools.checks.sockets import ssl_context_verifying, tcp_connect, tls_handshake

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
EXCERPT_CHARS = 500
_EXCERPT_BYTES = 4096
_HEADER_CHARS = 200
_URL_CHARS = 500
_USER_AGENT = b"Jamono-check/1 (http_probe)"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _TlsFailed(httpcore.ConnectError):
    """A handshake that failed (httpcore re-raises errors ``from None``, so the reason rides
    on the exception itself, not on its cause)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every blocking call ends by the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            self._sock.settimeout(self._deadline.clamp(timeout))
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "the server stopped answering") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            while buffer:
                self._sock.settimeout(self._deadline.clamp(timeout))
                buffer = buffer[self._sock.send(buffer) :]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "the server stopped reading") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            tls = tls_handshake(
                self._sock, ssl_context, server_hostname or "", self._deadline, timeout
            )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except ssl.SSLCertVerificationError as exc:
            raise _TlsFailed(exc.verify_message or str(exc)) from exc
        except ssl.SSLError as exc:
            raise _TlsFailed(exc.reason or str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(exc.strerror or str(exc)) from exc
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock  # has selected_alpn_protocol(), all httpcore asks of it
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return bool(select.select([self._sock], [], [], 0)[0])
        return None


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects a host and port only to the addresses pinned for them."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.pins: dict[tuple[str, int], list[str]] = {}
        self.address: str | None = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = self.pins.get((host, port))
        if not addresses:
            raise httpcore.ConnectError(f"{host_port_text(host, port)} was not checked")
        try:
            sock, self.address = tcp_connect(addresses, port, self.deadline, timeout)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "no answer to the connection") from exc
        except OSError as exc:
            raise httpcore.ConnectError(exc.strerror or str(exc)) from exc
        return _DeadlineStream(sock, self.deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("checks do not use Unix sockets")


@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return str(self.url)[:_URL_CHARS]


def _target_parse(url: str, base: httpx.URL | None = None) -> _Target:
    """The URL to request, or ``CheckRefused``: http(s) only, a host, no user or password."""
    shown = text_clean(str(url), 200)
    try:
        parsed = httpx.URL(url) if base is None else base.join(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise CheckRefused(f"{shown!r} is not a valid URL.") from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise CheckRefused(
            f"Only http and https URLs are probed, not {parsed.scheme or 'a URL without one'}."
        )
    if parsed.userinfo:
        raise CheckRefused("A URL with a user name or password in it is not probed.")
    try:
        host = host_normalize(parsed.raw_host.decode("ascii"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckRefused(f"{shown!r} names no valid host.") from exc
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    return _Target(parsed.copy_with(fragment=None), parsed.scheme, host, port)


def _host_header(target: _Target) -> bytes:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != _DEFAULT_PORTS[target.scheme]:
        host = f"{host}:{target.port}"
    return host.encode("ascii")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return text_clean(value.decode("latin-1"), _HEADER_CHARS)
    return ""


def _charset(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        key, _equals, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


def _excerpt(body: bytes, content_type: str, content_encoding: str) -> str:
    """The first words of a text body, cleaned; nothing for binary or compressed bodies."""
    if content_encoding not in ("", "identity"):
        return ""
    mime = content_type.split(";", 1)[0].strip().lower()
    head = body[:_EXCERPT_BYTES]
    if mime:
        if not mime.startswith("text/") and not mime.endswith(("json", "xml", "javascript")):
            return ""
    elif b"\x00" in head:
        return ""  # no type given, and it looks binary
    try:
        text = head.decode(_charset(content_type), errors="replace")
    except LookupError:
        text = head.decode("utf-8", errors="replace")
    return text_clean(text, EXCERPT_CHARS)


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class _Probe:
    """One probe's state, so a failure at any step still reports what came before it."""

    def __init__(
        self, url: str, allowlist: list[str], timeout_s: float, max_body: int, max_redirects: int
    ) -> None:
        self.allowlist = list(allowlist)
        self.timeout_s = timeout_s
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.deadline = Deadline(timeout_s)
        self.backend = _PinnedBackend(self.deadline)
        self.result = ProbeResult(url=text_clean(str(url), _URL_CHARS), outcome="", detail="")
        self.body = bytearray()
        self.content_encoding = ""
        self.reading_body = False
        self.result_host, self.result_port = "", 0

    def finish(self, outcome: str, detail: str) -> ProbeResult:
        self.result.outcome = outcome
        self.result.detail = detail
        self.result.elapsed_ms = self.deadline.elapsed_ms()
        self.result.bytes_read = max(self.result.bytes_read, len(self.body))
        return self.result

    def run(self, target: _Target, addresses: list[str]) -> ProbeResult:
        pool = httpcore.ConnectionPool(
            ssl_context=ssl_context_verifying(),
            network_backend=self.backend,
            retries=0,
            max_keepalive_connections=0,
        )
        with pool:
            try:
                return self._hops(pool, target, addresses)
            except (httpcore.TimeoutException, TimeoutError):
                return self._timed_out()
            except _TlsFailed as exc:
                where = host_port_text(self.result_host, self.result_port)
                return self.finish(
                    "tls_error", f"The TLS handshake with {where} failed: {exc.reason}."
                )
            except httpcore.ConnectError as exc:
                where = host_port_text(self.result_host, self.result_port)
                return self.finish("connect_error", f"Could not connect to {where}: {exc}.")
            except httpcore.ProtocolError as exc:
                return self.finish(
                    "connect_error", f"{self.result.final_url} did not answer valid HTTP: {exc}."
                )
            except httpcore.NetworkError as exc:
                return self.finish(
                    "connect_error", f"The connection to {self.result.final_url} broke: {exc}."
                )

    def _timed_out(self) -> ProbeResult:
        budget = f"{self.timeout_s:g} s"
        if not self.reading_body:
            detail = f"No answer from {self.result.final_url} within {budget}."
        else:
            detail = (
                f"{self.result.final_url} answered {_status_text(self.result.status)}, but its "
                f"body was still arriving after {budget} ({len(self.body)} bytes read)."
            )
        self.result.excerpt = self.result.excerpt or _excerpt(
            bytes(self.body), self.result.content_type, self.content_encoding
        )
        return self.finish("timeout", detail)

    def _hops(
        self, pool: httpcore.ConnectionPool, target: _Target, addresses: list[str]
    ) -> ProbeResult:
        while True:
            self.result_host, self.result_port = target.host, target.port
            self.result.final_url = str(target)
            self.backend.pins[(target.host, target.port)] = addresses
            url = httpcore.URL(
                scheme=target.scheme.encode(),
                host=target.host.encode("ascii"),
                port=target.port,
                target=target.url.raw_path,
            )
            headers = [
                (b"Host", _host_header(target)),
                (b"User-Agent", _USER_AGENT),
                (b"Accept", b"*/*"),
                (b"Accept-Encoding", b"identity"),
                (b"Connection", b"close"),
            ]
            timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout_s)
            with pool.stream(
                "GET", url, headers=headers, extensions={"timeout": timeouts}
            ) as response:
                status = response.status
                self.result.status = status
                self.result.address = self.backend.address
                self.result.hops.append(ProbeHop(status=status, url=str(target)))
                location = _header(response.headers, b"location")
                if status in REDIRECT_STATUSES and location:
                    following = self._redirect(target, status, location)
                    if isinstance(following, ProbeResult):
                        return following
                    target, addresses = following
                    continue
                return self._body_read(response)

    def _redirect(
        self, target: _Target, status: int, location: str
    ) -> ProbeResult | tuple[_Target, list[str]]:
        answered = f"{target} answered {_status_text(status)}"
        if len(self.result.hops) > self.max_redirects:
            self.result.refused_url = location
            return self.finish(
                "redirect_refused",
                f"{answered} and wanted to redirect again, to {location}; the probe stops "
                f"after {self.max_redirects} redirects.",
            )
        try:
            following = _target_parse(location, base=target.url)
            self.result.refused_url = str(following)
            addresses = connection_addresses(
                following.host,
                following.port,
                self.allowlist,
                timeout_s=self.deadline.clamp(None),
            )
        except CheckRefused as exc:
            self.result.refused_url = self.result.refused_url or location
            return self.finish(
                "redirect_refused",
                f"{answered} and redirected to {self.result.refused_url}, which was not "
                f"followed: {exc}",
            )
        except ResolutionFailed as exc:
            self.result.refused_url = None
            outcome = "timeout" if exc.timed_out else "connect_error"
            return self.finish(outcome, f"{answered} and redirected to {following}, but {exc}.")
        self.result.refused_url = None
        return following, addresses

    def _body_read(self, response: httpcore.Response) -> ProbeResult:
        result = self.result
        self.reading_body = True
        result.content_type = _header(response.headers, b"content-type")
        result.server = _header(response.headers, b"server")
        self.content_encoding = _header(response.headers, b"content-encoding").lower()
        received = 0
        for chunk in response.iter_stream():
            received += len(chunk)
            result.bytes_read = received
            room = self.max_body - len(self.body)
            self.body += chunk[: max(room, 0)]
            if received > self.max_body:
                result.truncated = True
                break
        result.excerpt = _excerpt(bytes(self.body), result.content_type, self.content_encoding)
        answered = f"{result.final_url} answered {_status_text(result.status or 0)}"
        redirects = len(result.hops) - 1
        after = f" after {redirects} redirect{'s' if redirects != 1 else ''}" if redirects else ""
        if result.truncated:
            return self.finish(
                "too_large",
                f"{answered}{after}, but its body is larger than {self.max_body} bytes; "
                "reading stopped there.",
            )
        kind = f" of {result.content_type}" if result.content_type else ""
        detail = f"{answered}{after} in {self.deadline.elapsed_ms()} ms ({received} bytes{kind})."
        return self.finish("ok" if (result.status or 0) < 400 else "http_error", detail)


def http_probe(
    url: str,
    *,
    allowlist: list[str] | tuple[str, ...],
    timeout_s: float | None = None,
    max_body_bytes: int | None = None,
    max_redirects: int | None = None,
) -> ProbeResult:
    """GET ``url`` if the allow-list and the address rule (``address_policy``) let it through,
    following redirects that pass the same checks, all within ``timeout_s`` seconds in total,
    reading at most ``max_body_bytes`` of the body. Defaults: ``PROBE_TIMEOUT_S``,
    ``PROBE_MAX_BODY_BYTES``, ``PROBE_MAX_REDIRECTS``.

    Raises ``CheckRefused`` (and sends nothing) for a URL that is not http(s), carries a user
    or password, names a host the allow-list lacks, or resolves only to forbidden addresses.
    Every network outcome, redirects refused on the way included, is a ``ProbeResult``."""
    timeout_s = settings.PROBE_TIMEOUT_S if timeout_s is None else timeout_s
    max_body_bytes = settings.PROBE_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
    max_redirects = settings.PROBE_MAX_REDIRECTS if max_redirects is None else max_redirects
    probe = _Probe(url, list(allowlist), float(timeout_s), int(max_body_bytes), int(max_redirects))
    target = _target_parse(url)
    probe.result.final_url = str(target)
    probe.result_host, probe.result_port = target.host, target.port
    try:
        addresses = connection_addresses(
            target.host, target.port, probe.allowlist, timeout_s=probe.deadline.remaining()
        )
    except ResolutionFailed as exc:
        return probe.finish("timeout" if exc.timed_out else "connect_error", f"{exc}.")
    return probe.run(target, addresses)
