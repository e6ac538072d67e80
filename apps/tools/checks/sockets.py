"""Connecting to checked addresses within a deadline: TCP, then TLS.

Every blocking call is clamped to what is left of the check's budget, and the TLS handshake
is driven without blocking, so a server that answers a byte at a time cannot hold a check
past its deadline."""

from __future__ import annotations

import select
import socket
import ssl

from apps.tools.checks.base import Deadline


def ssl_context_verifying() -> ssl.SSLContext:
    """The system's trust store (SSL_CERT_FILE / SSL_CERT_DIR honoured), names checked."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def ssl_context_unverifying() -> ssl.SSLContext:
    """Only to read a certificate that does not verify; never to send a request."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def tcp_connect(
    addresses: list[str], port: int, deadline: Deadline, timeout: float | None = None
) -> tuple[socket.socket, str]:
    """A connected socket to the first of ``addresses`` that answers, and that address.

    Raises ``TimeoutError`` when the deadline (or ``timeout`` for one attempt) passes,
    ``OSError`` when no address accepts."""
    error: OSError = ConnectionRefusedError(f"no address to connect to on port {port}")
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=deadline.clamp(timeout))
        except TimeoutError:
            raise
        except OSError as exc:
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address
    raise error


def tls_handshake(
    sock: socket.socket,
    context: ssl.SSLContext,
    server_hostname: str,
    deadline: Deadline,
    timeout: float | None = None,
) -> ssl.SSLSocket:
    """``sock`` wrapped in TLS (SNI and the certificate's name: ``server_hostname``), the
    handshake finished before the deadline. Raises ``TimeoutError`` or ``ssl.SSLError``; the
    socket is closed on failure."""
    sock.setblocking(False)
    try:
        tls = context.wrap_socket(
            sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
    except (OSError, ValueError):
        sock.close()
        raise
    try:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                ready = select.select([tls], [], [], deadline.clamp(timeout))[0]
            except ssl.SSLWantWriteError:
                ready = select.select([], [tls], [], deadline.clamp(timeout))[1]
            if not ready:
                raise TimeoutError("the TLS handshake did not finish in time")
    except BaseException:
        tls.close()
        raise
    tls.setblocking(True)
    return tls
