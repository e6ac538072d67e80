"""``tls_certificate_check``: the certificate an allow-listed host presents, read and judged.

Same allow-list and address rule as ``http_probe`` (connect only to the checked addresses,
SNI and the name check use the host name). A verifying handshake says whether the certificate
is valid; when it is not, a second handshake that does not verify reads the certificate so
the report still says what it is. No byte is sent after the handshake."""

from __future__ import annotations

import math
import ssl
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from django.conf import settings

from apps.tools.checks.address_policy import (
    ResolutionFailed,
    connection_addresses,
    host_normalize,
    host_port_text,
)
from apps.tools.checks.base import CheckRefused, Deadline, text_clean
from apps.tools.checks.sockets import (
    ssl_context_unverifying,
    ssl_context_verifying,
    tcp_connect,
    tls_handshake,
)

MAX_NAMES = 100
_TEXT_CHARS = 300


@dataclass
class CertificateReport:
    """What a TLS check found. ``outcome``: ``ok`` (the certificate verifies for the host),
    ``invalid`` (read, but it does not verify: ``verify_error`` says why), ``timeout``,
    ``connect_error`` or ``tls_error`` (no handshake at all); ``detail`` in plain words.
    ``days_to_expiry`` is whole days left, negative once expired."""

    host: str
    port: int
    outcome: str = ""
    detail: str = ""
    address: str | None = None
    valid: bool | None = None
    verify_error: str | None = None
    subject_cn: str | None = None
    issuer: str | None = None
    issuer_cn: str | None = None
    issuer_organization: str | None = None
    sans: list[str] = field(default_factory=list)
    not_before: str | None = None
    not_after: str | None = None
    days_to_expiry: int | None = None
    serial: str | None = None
    fingerprint_sha256: str | None = None
    signature_algorithm: str | None = None
    self_signed: bool | None = None
    host_matches: bool | None = None
    tls_version: str | None = None
    elapsed_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _certificate_fetch(
    addresses: list[str], port: int, host: str, context: ssl.SSLContext, deadline: Deadline
) -> tuple[bytes | None, str, str | None]:
    """The peer's certificate (DER), the address it came from, the TLS version."""
    sock, address = tcp_connect(addresses, port, deadline)
    tls = tls_handshake(sock, context, host, deadline)
    try:
        return tls.getpeercert(binary_form=True), address, tls.version()
    finally:
        tls.close()


def _name_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return text_clean(value if isinstance(value, str) else value.decode(errors="replace"), 200)


def host_matches_names(host: str, dns_names: list[str], ip_addresses: list[str]) -> bool:
    """Whether a certificate for these subject alternative names serves ``host``
    (normalized): an IP host must be listed as an address; a name matches exactly or through a
    wildcard standing for its whole leftmost label (RFC 6125)."""
    if ":" in host or host.replace(".", "").isdigit():
        return host in ip_addresses
    for pattern in dns_names:
        pattern = pattern.lower().rstrip(".")
        if pattern == host:
            return True
        wildcard = pattern.startswith("*.") and pattern.count(".") >= 2
        if wildcard and "." in host and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _certificate_read(report: CertificateReport, der: bytes) -> None:
    certificate = x509.load_der_x509_certificate(der)
    report.subject_cn = _name_attribute(certificate.subject, NameOID.COMMON_NAME)
    report.issuer = text_clean(certificate.issuer.rfc4514_string(), _TEXT_CHARS)
    report.issuer_cn = _name_attribute(certificate.issuer, NameOID.COMMON_NAME)
    report.issuer_organization = _name_attribute(certificate.issuer, NameOID.ORGANIZATION_NAME)
    dns_names: list[str] = []
    ip_addresses: list[str] = []
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        dns_names = [text_clean(n, 255) for n in extension.value.get_values_for_type(x509.DNSName)]
        ip_addresses = [str(ip) for ip in extension.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    report.sans = (dns_names + ip_addresses)[:MAX_NAMES]
    report.host_matches = host_matches_names(report.host, dns_names, ip_addresses)
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    report.not_before = not_before.isoformat()
    report.not_after = not_after.isoformat()
    seconds_left = (not_after - datetime.now(UTC)).total_seconds()
    report.days_to_expiry = math.floor(seconds_left / 86400)
    report.serial = format(certificate.serial_number, "x")
    report.fingerprint_sha256 = certificate.fingerprint(hashes.SHA256()).hex()
    hash_algorithm = certificate.signature_hash_algorithm
    report.signature_algorithm = hash_algorithm.name if hash_algorithm else None
    report.self_signed = certificate.issuer == certificate.subject


def _summary(report: CertificateReport, where: str) -> str:
    who = f"CN {report.subject_cn}" if report.subject_cn else "no common name"
    issuer = report.issuer_cn or report.issuer_organization or report.issuer
    days = report.days_to_expiry or 0
    on = (report.not_after or "")[:10]
    if days < 0:
        when = f"expired {-days} day{'s' if -days != 1 else ''} ago, on {on}"
    else:
        when = f"expires in {days} day{'s' if days != 1 else ''}, on {on}"
    verdict = "It verifies." if report.valid else f"It does not verify: {report.verify_error}."
    return f"The certificate of {where} ({who}, issued by {issuer}) {when}. {verdict}"


def tls_certificate_check(
    host: str,
    port: int = 443,
    *,
    allowlist: list[str] | tuple[str, ...],
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Read and judge the TLS certificate ``host:port`` presents, within ``timeout_s`` seconds
    in all (default ``PROBE_TIMEOUT_S``; each of the two handshakes, when both happen, share
    it).

    Raises ``CheckRefused`` (and connects nowhere) when the port is not one, the host is not
    allow-listed, or it resolves only to forbidden addresses (``address_policy``). Network and
    TLS outcomes are results: the keys of ``CertificateReport``."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise CheckRefused(f"{port!r} is not a TCP port (1 to 65535).")
    try:
        host = host_normalize(host)
    except ValueError as exc:
        raise CheckRefused(f"{text_clean(str(host), 80)!r} is not a valid host.") from exc
    timeout_s = float(settings.PROBE_TIMEOUT_S if timeout_s is None else timeout_s)
    deadline = Deadline(timeout_s)
    report = CertificateReport(host=host, port=port)
    where = host_port_text(host, port)

    def finish(outcome: str, detail: str) -> dict[str, Any]:
        report.outcome, report.detail = outcome, detail
        report.elapsed_ms = deadline.elapsed_ms()
        return report.as_dict()

    try:
        addresses = connection_addresses(host, port, allowlist, timeout_s=deadline.remaining())
    except ResolutionFailed as exc:
        return finish("timeout" if exc.timed_out else "connect_error", f"{exc}.")
    try:
        try:
            der, report.address, report.tls_version = _certificate_fetch(
                addresses, port, host, ssl_context_verifying(), deadline
            )
            report.valid = True
        except ssl.SSLCertVerificationError as exc:
            report.valid = False
            report.verify_error = text_clean(exc.verify_message or str(exc), _TEXT_CHARS)
            der, report.address, report.tls_version = _certificate_fetch(
                addresses, port, host, ssl_context_unverifying(), deadline
            )
    except TimeoutError:
        return finish("timeout", f"No TLS handshake with {where} within {timeout_s:g} s.")
    except ssl.SSLError as exc:
        reason = text_clean(exc.reason or str(exc), _TEXT_CHARS)
        return finish("tls_error", f"The TLS handshake with {where} failed: {reason}.")
    except OSError as exc:
        reason = text_clean(exc.strerror or str(exc), _TEXT_CHARS)
        return finish("connect_error", f"Could not connect to {where}: {reason}.")
    if not der:
        return finish("tls_error", f"{where} completed a handshake without a certificate.")
    try:
        _certificate_read(report, der)
    except ValueError as exc:
        return finish("invalid", f"The certificate of {where} could not be read: {exc}.")
    return finish("ok" if report.valid else "invalid", _summary(report, where))
