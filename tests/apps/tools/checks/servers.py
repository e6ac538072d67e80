"""Protocol doubles for the sandboxed checks: an HTTP(S) server with slow, huge and
redirecting endpoints, a DNS server over UDP, certificates made on the spot. All on 127.0.0.1,
each counting the connections it accepted, so a test can prove that nothing arrived."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CHUNK = b"x" * 65536


class _Handler(BaseHTTPRequestHandler):
    server: ProbeTarget
    timeout = 5

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.paths.append(self.path)
        stopping = self.server.stopping
        try:
            if url.path == "/ok":
                self._send(200, b"Hello from the probe\x1b[31m\x00 target\n")
            elif url.path == "/host":
                self._send(200, (self.headers.get("Host") or "").encode())
            elif url.path.startswith("/status/"):
                self._send(int(url.path.rsplit("/", 1)[1]), b"it went wrong")
            elif url.path == "/slow":
                stopping.wait(float(query.get("s", ["10"])[0]))
                self._send(200, b"finally")
            elif url.path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                while not stopping.wait(0.05):
                    self.wfile.write(b".")
                    self.wfile.flush()
            elif url.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(CHUNK) * 200))
                self.end_headers()
                for _ in range(200):
                    if stopping.is_set():
                        break
                    self.wfile.write(CHUNK)
            elif url.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", query["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(404, b"not here")
        except (ConnectionError, ssl.SSLError, OSError):
            pass  # the client hung up: what a probe at its limit does


class ProbeTarget(ThreadingHTTPServer):
    """An HTTP server (HTTPS with ``tls``) on 127.0.0.1 (or ``address``) and a free port."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, tls: ssl.SSLContext | None = None, address: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, 0), _Handler)
        self.connections = 0
        self.paths: list[str] = []
        self.stopping = threading.Event()
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = self.server_address[1]
        self.scheme = "https" if tls is not None else "http"

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up mid-handshake is what some tests do

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> ProbeTarget:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class SilentServer:
    """Accepts TCP connections and never says a word (a TLS server that never handshakes)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])
            except TimeoutError:
                continue

    def __enter__(self) -> SilentServer:
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join()
        for sock in self.accepted:
            sock.close()
        self.sock.close()


def port_unused() -> int:
    """A port where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def name_resolving_to_private() -> str | None:
    """This machine's host name when it resolves (hosts file, no network) to non-public
    addresses only, as most containers' names do: a name, other than localhost, for the DNS
    rebinding tests. None elsewhere."""
    from apps.tools.checks.address_policy import address_is_private

    name = socket.gethostname().lower()
    if not name or name == "localhost" or name.endswith(".localhost"):
        return None
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        return None
    addresses = {info[4][0] for info in infos}
    return name if addresses and all(address_is_private(a) for a in addresses) else None


@dataclass
class Certificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def certificate_make(
    directory: Path,
    *,
    names: tuple[str, ...] = ("localhost",),
    addresses: tuple[str, ...] = ("127.0.0.1",),
    days_valid: float = 10,
    issued_days_ago: float = 0,
    common_name: str = "localhost",
) -> Certificate:
    """A self-signed certificate (its own issuer, so SSL_CERT_FILE may trust it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jamono Test CA"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    issued = now - datetime.timedelta(days=issued_days_ago, minutes=5)
    alternative_names = [x509.DNSName(name) for name in names] + [
        x509.IPAddress(ipaddress.ip_address(address)) for address in addresses
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued)
        .not_valid_after(now + datetime.timedelta(days=days_valid))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{common_name}-{certificate.serial_number:x}.pem"
    key_path = directory / f"{common_name}-{certificate.serial_number:x}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


class DnsServer:
    """Answers DNS over UDP from ``records`` ({name: {type: [rdata text]}}): a name it lacks
    is NXDOMAIN, a type it lacks is an empty answer. ``silent``: never answers."""

    def __init__(self, records: dict[str, dict[str, list[str]]], *, silent: bool = False):
        self.records = {name.lower().rstrip("."): types for name, types in records.items()}
        self.silent = silent
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopping = threading.Event()

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
        while name in self.records:
            types = self.records[name]
            if "CNAME" in types and question.rdtype != dns.rdatatype.CNAME:
                target = types["CNAME"][0]
                response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "CNAME", target))
                name = target.lower().rstrip(".")
                continue
            wanted = dns.rdatatype.to_text(question.rdtype)
            if wanted in types:
                response.answer.append(
                    dns.rrset.from_text_list(name + ".", 300, "IN", wanted, types[wanted])
                )
            return response.to_wire()
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            if not self.silent:
                self.sock.sendto(self._answer(wire), client)

    def __enter__(self) -> DnsServer:
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()
