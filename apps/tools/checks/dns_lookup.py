"""``dns_lookup``: one DNS question (A, MX, TXT, …) asked with dnspython, within a budget.

No allow-list here: a lookup asks the configured resolvers, never the name's own servers
directly, and reaches no host the answer names."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.reversename
from django.conf import settings

from apps.tools.checks.base import CheckRefused, Deadline, text_clean

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "CAA", "SRV", "PTR")
MAX_RECORDS = 50
RECORD_CHARS = 500
_LABEL = re.compile(rb"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


@dataclass
class DnsAnswer:
    """What a lookup found. ``outcome``: ``ok``, ``nxdomain`` (the name does not exist),
    ``no_answer`` (it exists, without records of this type), ``timeout`` or ``error`` (the
    servers failed or refused); ``detail`` says it in plain words."""

    name: str
    type: str
    outcome: str = ""
    detail: str = ""
    records: list[str] = field(default_factory=list)
    ttl: int | None = None
    canonical_name: str | None = None
    truncated: bool = False
    elapsed_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_type_checked(record_type: str) -> str:
    checked = (record_type or "A").strip().upper()
    if checked not in RECORD_TYPES:
        raise CheckRefused(
            f"{text_clean(record_type, 20)!r} is not a record type this lookup asks for "
            f"(one of {', '.join(RECORD_TYPES)})."
        )
    return checked


def name_checked(name: str, record_type: str = "A") -> dns.name.Name:
    """The absolute DNS name to ask for; for PTR, an IP address becomes its reverse name.
    ``CheckRefused`` when ``name`` is not a host name: at most 253 characters, labels of 1 to
    63 letters, digits, hyphens or underscores once IDNA-encoded."""
    text = (name or "").strip()
    shown = text_clean(text, 80)
    if record_type == "PTR":
        try:
            return dns.reversename.from_address(str(ipaddress.ip_address(text)))
        except ValueError:
            pass
    if not text or len(text) > 300:
        raise CheckRefused(f"{shown!r} is not a valid DNS name.")
    try:
        qname = dns.name.from_text(text) if text.isascii() else dns.name.from_unicode(text)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise CheckRefused(f"{shown!r} is not a valid DNS name ({exc}).") from exc
    labels = qname.labels[:-1]
    if (
        not labels
        or len(qname.to_text(omit_final_dot=True)) > 253
        or not all(_LABEL.match(label) for label in labels)
    ):
        raise CheckRefused(f"{shown!r} is not a valid DNS name.")
    return qname


def _nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    """``1.1.1.1``, ``127.0.0.1:5353``, ``::1`` or ``[::1]:5353``."""
    text = text.strip()
    port = "53"
    if text.startswith("["):
        host, _bracket, rest = text[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text
    address = ipaddress.ip_address(host)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return dns.nameserver.Do53Nameserver(str(address), int(port))


def _resolver(nameservers: list[str], timeout_s: float) -> dns.resolver.Resolver:
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_nameserver(text) for text in nameservers]
    else:
        resolver = dns.resolver.Resolver(configure=True)
    # EDNS0 with the DNS Flag Day 2020 buffer size: answers up to 1232 bytes fit one datagram.
    resolver.use_edns(0, 0, 1232)
    # Two tries per server fit in the budget: one lost UDP datagram does not end the lookup.
    resolver.timeout = max(timeout_s / 2, 0.05)
    resolver.lifetime = timeout_s
    return resolver


def _record_text(rdata: Any) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:
        text = b"".join(rdata.strings).decode("utf-8", errors="replace")
    else:
        text = rdata.to_text()
    return text_clean(text, RECORD_CHARS)


def dns_lookup(
    name: str,
    record_type: str = "A",
    *,
    nameservers: list[str] | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Ask for the ``record_type`` records of ``name`` (for PTR, ``name`` may be an IP
    address), within ``timeout_s`` seconds in all (default ``PROBE_TIMEOUT_S``), of
    ``nameservers`` (IP addresses, each optionally with ``:port``; default
    ``DNS_NAMESERVERS``, and when that is empty the system's resolvers). Search domains are
    not applied.

    Raises ``CheckRefused`` for a type not in ``RECORD_TYPES`` or an invalid name, before
    asking anything. NXDOMAIN, no answer, timeouts and server failures are results (the keys
    of ``DnsAnswer``), at most ``MAX_RECORDS`` records of at most ``RECORD_CHARS`` each."""
    rtype = record_type_checked(record_type)
    qname = name_checked(name, rtype)
    timeout_s = float(settings.PROBE_TIMEOUT_S if timeout_s is None else timeout_s)
    if nameservers is None:
        nameservers = list(settings.DNS_NAMESERVERS)
    deadline = Deadline(timeout_s)
    shown = qname.to_text(omit_final_dot=True)
    answer = DnsAnswer(name=shown, type=rtype)

    def finish(outcome: str, detail: str) -> dict[str, Any]:
        answer.outcome, answer.detail = outcome, detail
        answer.elapsed_ms = deadline.elapsed_ms()
        return answer.as_dict()

    try:
        resolver = _resolver(nameservers, timeout_s)
        response = resolver.resolve(qname, rtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return finish("nxdomain", f"{shown} does not exist (NXDOMAIN).")
    except dns.exception.Timeout:
        return finish("timeout", f"No DNS answer for {shown} within {timeout_s:g} s.")
    except dns.resolver.NoNameservers as exc:
        return finish("error", f"No DNS server gave a usable answer for {shown}: {exc}")
    except dns.resolver.NoResolverConfiguration:
        return finish("error", "No DNS server is configured on this server.")
    except dns.exception.DNSException as exc:
        return finish("error", f"The lookup of {shown} failed: {exc}")
    if response.canonical_name != qname:
        answer.canonical_name = response.canonical_name.to_text(omit_final_dot=True)
    if response.rrset is None:
        alias = f" (an alias of {answer.canonical_name})" if answer.canonical_name else ""
        return finish("no_answer", f"{shown}{alias} exists but has no {rtype} record.")
    rdatas = list(response.rrset)
    answer.records = [_record_text(rdata) for rdata in rdatas[:MAX_RECORDS]]
    answer.truncated = len(rdatas) > MAX_RECORDS
    answer.ttl = response.rrset.ttl
    count = len(rdatas)
    more = f", the first {MAX_RECORDS} shown" if answer.truncated else ""
    return finish("ok", f"{shown} has {count} {rtype} record{'s' if count != 1 else ''}{more}.")
