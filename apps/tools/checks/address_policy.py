"""Where a check may connect: the tenant's allow-list and the address rule.

Allow-list patterns (one per entry, case-insensitive, each optionally followed by ``:port``;
no port means any port):

- ``status.example.com``: that host name exactly;
- ``*.example.com``: any name below example.com (not example.com itself; at least two labels
  after the star, so ``*.com`` is refused);
- ``10.0.0.5``, ``[::1]``: that address; ``10.0.0.0/24``, ``[fd00::/64]``: that network (at
  least /8 for IPv4, /32 for IPv6). An IPv6 pattern with a port is written in brackets.

The rule for a connection to ``host:port``:

1. The host must match a pattern: a name matches name patterns, an address literal matches
   address and network patterns (``127.0.0.1`` on the list does not allow the name
   ``localhost``, nor the other way round).
2. The host is resolved once, and the check connects only to the addresses resolved then
   (DNS cannot change between the check and the connection). A public address is permitted.
   An address that is not public (private, loopback, link-local, CGNAT 100.64/10, reserved,
   documentation, an IPv4 address wrapped in IPv6) is permitted only when an address or
   network pattern covers it, port included. A name on the list never vouches for the
   addresses it resolves to (a tenant's ``status.example.com`` answering 127.0.0.1 is refused:
   DNS rebinding), with one exception: ``localhost`` and names under ``.localhost`` are
   loopback by definition (RFC 6761), so listing such a name permits its loopback addresses.
3. Never, whatever the list says: the unspecified address (0.0.0.0/8, ``::``), multicast and
   broadcast, and cloud metadata endpoints (169.254.169.254, 169.254.170.2, 100.100.100.200,
   fd00:ec2::254).

Addresses that resolve but are not permitted are dropped; when none is left, the check is
refused with the reason.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass

import idna

from apps.tools.checks.base import CheckRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NOT_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        # IPv4-compatible, mapped and other IETF-reserved forms; loopback and unspecified.
        "::/8",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NEVER = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "169.254.169.254/32",
        "169.254.170.2/32",
        "100.100.100.200/32",
        "::/128",
        "ff00::/8",
        "fd00:ec2::254/128",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_SMALLEST_PREFIX = {4: 8, 6: 32}

# getaddrinfo has no timeout: it runs on these threads and the caller waits only as long as
# its budget allows. A lookup that outlives its caller keeps its thread until the system
# resolver gives up; there are never more than this many. One pool per process: a pool
# inherited through fork (Celery's prefork workers) has no threads behind it.
_RESOLVER_THREADS = 4
_resolver_pool: tuple[int, ThreadPoolExecutor] | None = None
_resolver_pool_lock = threading.Lock()


def _resolver_threads() -> ThreadPoolExecutor:
    global _resolver_pool
    with _resolver_pool_lock:
        if _resolver_pool is None or _resolver_pool[0] != os.getpid():
            executor = ThreadPoolExecutor(_RESOLVER_THREADS, thread_name_prefix="checks-resolve")
            _resolver_pool = (os.getpid(), executor)
        return _resolver_pool[1]


class ResolutionFailed(Exception):
    """A name that did not resolve (``timed_out``: the budget ran out first)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def address_unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _address(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])  # no IPv6 zone: fe80::1%eth0
    return address_unwrapped(ip)


def address_is_private(ip: str | IPAddress) -> bool:
    """Whether ``ip`` is anything but a public unicast address: private, loopback,
    link-local (cloud metadata included), CGNAT, multicast, reserved, unspecified,
    documentation; an IPv4 address wrapped in IPv6 is judged as the IPv4 address."""
    address = _address(ip)
    if any(address in network for network in _NOT_PUBLIC):
        return True
    return not address.is_global or address.is_multicast


def address_is_never_reachable(ip: str | IPAddress) -> bool:
    """Addresses no allow-list opens: unspecified, multicast, broadcast, cloud metadata."""
    address = _address(ip)
    return any(address in network for network in _NEVER)


def _ip_or_none(text: str) -> IPAddress | None:
    try:
        return _address(text)
    except ValueError:
        return None


def _name_normalize(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if not name:
        raise ValueError("an empty host name")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"{name!r} is not a valid host name ({exc})") from exc
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{name!r} is not a valid host name")
    if labels[-1].isdigit():
        # "10.1" or "2130706433" would be read as an address by the system resolver.
        raise ValueError(f"{name!r} is neither a host name nor an IP address")
    return name


def host_normalize(host: str) -> str:
    """``host`` as the checks compare it: an address literal in its canonical text (brackets
    removed, IPv4-mapped IPv6 unwrapped), a name in lowercase ASCII (IDNA) without the final
    dot. ``ValueError`` for anything else."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    address = _ip_or_none(host) if "%" not in host else None
    if address is not None:
        return str(address)
    return _name_normalize(host)


def host_port_text(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class AllowPattern:
    """One parsed allow-list entry: exactly one of ``name``, ``suffix`` (``*.example.com`` is
    ``.example.com``) or ``network`` is set; ``port`` None is any port."""

    text: str
    port: int | None = None
    name: str | None = None
    suffix: str | None = None
    network: IPNetwork | None = None

    def _port_matches(self, port: int) -> bool:
        return self.port is None or self.port == port

    def matches_host(self, host: str, port: int) -> bool:
        """Whether this entry allows ``host`` (normalized) on ``port``."""
        if not self._port_matches(port):
            return False
        if self.network is not None:
            address = _ip_or_none(host)
            return address is not None and address in self.network
        if self.name is not None:
            return host == self.name
        return self.suffix is not None and host.endswith(self.suffix)

    def covers_address(self, ip: str | IPAddress, port: int) -> bool:
        """Whether this entry names ``ip`` (an address or network pattern) on ``port``."""
        return (
            self.network is not None and self._port_matches(port) and _address(ip) in self.network
        )


def _port_parse(text: str, pattern: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{pattern!r}: the port must be a number from 1 to 65535")
    return int(text)


def _network_parse(text: str, pattern: str) -> IPNetwork:
    address_text, _slash, prefix = text.partition("/")
    address = _address(address_text)
    if prefix:
        network = ipaddress.ip_network(f"{address_text}/{prefix}", strict=False)
        if network.prefixlen < _SMALLEST_PREFIX[network.version]:
            raise ValueError(
                f"{pattern!r} is too broad: at most /{_SMALLEST_PREFIX[network.version]} "
                f"for IPv{network.version}"
            )
        return network
    return ipaddress.ip_network(address)


def pattern_parse(pattern: str) -> AllowPattern:
    """One allow-list entry, parsed; ``ValueError`` with a plain reason when it is not one of
    the forms the module docstring lists (for a form or a model's ``clean()``)."""
    text = pattern.strip().lower()
    port: int | None = None
    if text.startswith("["):
        inner, bracket, rest = text[1:].partition("]")
        if not bracket or ":" not in inner:
            raise ValueError(f"{pattern!r}: brackets hold an IPv6 address")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{pattern!r}: only ':port' may follow the brackets")
            port = _port_parse(rest[1:], pattern)
        host = inner
    elif text.count(":") >= 2:
        host = text  # a bare IPv6 address or network: no port (write [addr]:port for one)
    else:
        host, colon, port_text = text.partition(":")
        if colon:
            port = _port_parse(port_text, pattern)
    if not host:
        raise ValueError(f"{pattern!r}: no host")
    try:
        if "/" in host or ":" in host or _ip_or_none(host) is not None:
            return AllowPattern(text=pattern, port=port, network=_network_parse(host, pattern))
    except ValueError as exc:
        raise ValueError(f"{pattern!r} is not a valid address or network ({exc})") from exc
    if host.startswith("*."):
        suffix = _name_normalize(host[2:])
        if "." not in suffix:
            raise ValueError(f"{pattern!r} is too broad: name a domain, like *.example.com")
        return AllowPattern(text=pattern, port=port, suffix="." + suffix)
    if "*" in host:
        raise ValueError(f"{pattern!r}: a star may only start a pattern, as in *.example.com")
    return AllowPattern(text=pattern, port=port, name=_name_normalize(host))


def allowlist_parse(patterns: list[str] | tuple[str, ...]) -> list[AllowPattern]:
    """The valid entries of an allow-list; an invalid entry allows nothing and is skipped."""
    parsed = []
    for pattern in patterns:
        try:
            parsed.append(pattern_parse(pattern))
        except ValueError:
            continue
    return parsed


def host_allowed(host: str, port: int, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether the allow-list lets a check connect to ``host`` on ``port`` (step 1 of the
    rule; the addresses it resolves to are judged by ``addresses_permitted``)."""
    try:
        host = host_normalize(host)
    except ValueError:
        return False
    return any(entry.matches_host(host, port) for entry in allowlist_parse(patterns))


def addresses_permitted(
    host: str, port: int, addresses: list[str], patterns: list[str] | tuple[str, ...]
) -> list[str]:
    """Those of ``addresses`` (resolved for ``host``) a connection may use (steps 2 and 3)."""
    entries = allowlist_parse(patterns)
    host = host_normalize(host)
    localhost_listed = _is_localhost_name(host) and any(
        entry.network is None and entry.matches_host(host, port) for entry in entries
    )
    permitted = []
    for text in addresses:
        address = _address(text)
        if address_is_never_reachable(address):
            continue
        if (
            not address_is_private(address)
            or any(entry.covers_address(address, port) for entry in entries)
            or (localhost_listed and address.is_loopback)
        ):
            permitted.append(text)
    return permitted


def addresses_resolve(host: str, port: int, *, timeout_s: float) -> list[str]:
    """The addresses of ``host`` (an address literal is its own), in the system resolver's
    order, IPv4-mapped ones unwrapped, without repeats. Raises ``ResolutionFailed`` when the
    name does not resolve within ``timeout_s``."""
    literal = _ip_or_none(host.strip("[]"))
    if literal is not None:
        return [str(literal)]
    if timeout_s <= 0:
        raise ResolutionFailed(f"no time was left to resolve {host}", timed_out=True)
    future = _resolver_threads().submit(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        infos = future.result(timeout=timeout_s)
    except FutureTimeoutError as exc:
        future.cancel()
        raise ResolutionFailed(
            f"{host} did not resolve within {timeout_s:.1f} s", timed_out=True
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise ResolutionFailed(f"{host} does not resolve ({exc})") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canonical, sockaddr in infos:
        text = str(_address(str(sockaddr[0])))
        if text not in addresses:
            addresses.append(text)
    return addresses


def connection_addresses(
    host: str, port: int, patterns: list[str] | tuple[str, ...], *, timeout_s: float
) -> list[str]:
    """The checked addresses a connection to ``host:port`` may use, the whole rule applied.

    Raises ``CheckRefused`` (not allow-listed, or every address forbidden) before any packet
    is sent to the host, ``ResolutionFailed`` when the name does not resolve in time."""
    try:
        host = host_normalize(host)
    except ValueError as exc:
        raise CheckRefused(str(exc)) from exc
    where = host_port_text(host, port)
    if not host_allowed(host, port, patterns):
        raise CheckRefused(f"{where} is not on this workspace's list of hosts checks may reach.")
    addresses = addresses_resolve(host, port, timeout_s=timeout_s)
    permitted = addresses_permitted(host, port, addresses, patterns)
    if permitted:
        return permitted
    if all(address_is_never_reachable(address) for address in addresses):
        raise CheckRefused(
            f"{where} resolves to {', '.join(addresses)}: an address checks never reach "
            "(unspecified, multicast, broadcast or a cloud metadata endpoint)."
        )
    raise CheckRefused(
        f"{where} resolves to {', '.join(addresses)}: a private, loopback or reserved address. "
        "Checks reach such an address only when the allow-list names it (for example "
        "10.0.0.5 or 10.0.0.0/24, optionally with :port)."
    )
