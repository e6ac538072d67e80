import pytest

from apps.tools.checks.address_policy import (
    ResolutionFailed,
    address_is_never_reachable,
    address_is_private,
    addresses_permitted,
    addresses_resolve,
    connection_addresses,
    host_allowed,
    host_normalize,
    pattern_parse,
)
from apps.tools.checks.base import CheckRefused
from tests.apps.tools.checks.servers import name_resolving_to_private


@pytest.mark.parametrize(
    ("pattern", "kind", "port"),
    [
        ("status.example.com", "name", None),
        ("Status.Example.COM.:8443", "name", 8443),
        ("*.example.com", "suffix", None),
        ("*.example.com:443", "suffix", 443),
        ("10.0.0.5", "network", None),
        ("10.0.0.5:8080", "network", 8080),
        ("10.0.0.0/24", "network", None),
        ("10.0.0.0/24:9000", "network", 9000),
        ("[::1]", "network", None),
        ("[::1]:8080", "network", 8080),
        ("fd00::/64", "network", None),
        ("[fd00::/64]:443", "network", 443),
    ],
)
def test_each_documented_pattern_form_parses(pattern, kind, port):
    parsed = pattern_parse(pattern)
    assert getattr(parsed, kind) is not None
    assert parsed.port == port


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "*",
        "*.com",
        "a*.example.com",
        "0.0.0.0/0",
        "10.0.0.0/7",
        "::/0",
        "example.com:0",
        "example.com:99999",
        "example.com:http",
        "exa mple.com",
        "[10.0.0.1]",
        "[::1]x",
        "10.1",
        "http://example.com",
    ],
)
def test_a_malformed_or_too_broad_pattern_is_refused_with_a_reason(pattern):
    with pytest.raises(ValueError, match=r".+"):
        pattern_parse(pattern)


def test_an_exact_name_allows_that_host_on_any_port_and_nothing_else():
    patterns = ["status.example.com"]
    assert host_allowed("status.example.com", 443, patterns)
    assert host_allowed("STATUS.example.com.", 8080, patterns)
    assert not host_allowed("api.example.com", 443, patterns)
    assert not host_allowed("status.example.com.evil.test", 443, patterns)


def test_a_port_on_the_pattern_allows_that_port_only():
    assert host_allowed("status.example.com", 8443, ["status.example.com:8443"])
    assert not host_allowed("status.example.com", 443, ["status.example.com:8443"])


def test_a_wildcard_allows_subdomains_but_not_the_domain_itself():
    patterns = ["*.example.com"]
    assert host_allowed("a.example.com", 443, patterns)
    assert host_allowed("a.b.example.com", 443, patterns)
    assert not host_allowed("example.com", 443, patterns)
    assert not host_allowed("badexample.com", 443, patterns)


def test_address_patterns_allow_address_hosts_and_name_patterns_allow_names():
    assert host_allowed("10.0.0.7", 80, ["10.0.0.0/24"])
    assert not host_allowed("10.0.1.7", 80, ["10.0.0.0/24"])
    assert host_allowed("[::1]", 8080, ["[::1]:8080"])
    assert host_allowed("::ffff:10.0.0.7", 80, ["10.0.0.7"])
    # An address on the list does not allow a name that resolves to it, nor the reverse.
    assert not host_allowed("localhost", 80, ["127.0.0.1"])
    assert not host_allowed("127.0.0.1", 80, ["localhost"])


def test_an_international_name_matches_its_idna_form():
    assert host_allowed("bücher.example", 443, ["xn--bcher-kva.example"])
    assert host_allowed("xn--bcher-kva.example", 443, ["Bücher.example"])


def test_an_invalid_pattern_on_the_list_allows_nothing_and_does_not_break_the_others():
    assert host_allowed("ok.example.com", 443, ["*", "0.0.0.0/0", "ok.example.com"])
    assert not host_allowed("other.example.com", 443, ["*", "0.0.0.0/0"])


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.9.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address judged, not bound)
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::7f00:1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
        "2001:db8::1",
    ],
)
def test_non_public_addresses_are_private(address):
    assert address_is_private(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"]
)
def test_public_addresses_are_not_private(address):
    assert not address_is_private(address)


def test_an_allow_listed_name_does_not_vouch_for_a_loopback_address_it_resolves_to():
    """DNS rebinding: the tenant's name answering 127.0.0.1 must not reach this server."""
    assert (
        addresses_permitted("status.example.com", 443, ["127.0.0.1"], ["status.example.com"]) == []
    )


def test_an_address_pattern_lets_an_allow_listed_name_use_that_private_address():
    patterns = ["grafana.internal", "10.0.0.0/24"]
    assert addresses_permitted("grafana.internal", 443, ["10.0.0.9"], patterns) == ["10.0.0.9"]
    assert addresses_permitted("grafana.internal", 443, ["10.0.1.9"], patterns) == []


def test_an_address_pattern_with_a_port_covers_that_port_only():
    patterns = ["grafana.internal", "10.0.0.9:3000"]
    assert addresses_permitted("grafana.internal", 3000, ["10.0.0.9"], patterns) == ["10.0.0.9"]
    assert addresses_permitted("grafana.internal", 3000, ["10.0.0.9"], ["grafana.internal"]) == []


def test_forbidden_addresses_are_dropped_and_public_ones_kept():
    addresses = ["93.184.216.34", "127.0.0.1", "10.0.0.1"]
    assert addresses_permitted("example.com", 80, addresses, ["example.com"]) == ["93.184.216.34"]


def test_listing_localhost_by_name_permits_its_loopback_addresses_only():
    patterns = ["localhost"]
    assert addresses_permitted("localhost", 8080, ["::1", "127.0.0.1"], patterns) == [
        "::1",
        "127.0.0.1",
    ]
    assert addresses_permitted("localhost", 8080, ["10.0.0.1"], patterns) == []


def test_cloud_metadata_and_unspecified_addresses_are_never_reachable_whatever_the_list():
    patterns = ["169.254.0.0/16", "0.0.0.0/8", "metadata.internal"]
    assert address_is_never_reachable("169.254.169.254")
    assert addresses_permitted("169.254.169.254", 80, ["169.254.169.254"], patterns) == []
    unspecified = "0.0.0.0"  # noqa: S104 (an address judged, not bound)
    assert addresses_permitted(unspecified, 80, [unspecified], patterns) == []
    assert addresses_permitted("169.254.1.1", 80, ["169.254.1.1"], patterns) == ["169.254.1.1"]


def test_host_normalize_unwraps_brackets_and_mapped_addresses_and_lowers_names():
    assert host_normalize("[::1]") == "::1"
    assert host_normalize("::ffff:127.0.0.1") == "127.0.0.1"
    assert host_normalize("Example.COM.") == "example.com"
    with pytest.raises(ValueError):
        host_normalize("2130706433")


def test_an_address_literal_resolves_to_itself_without_a_lookup():
    assert addresses_resolve("10.0.0.1", 80, timeout_s=0) == ["10.0.0.1"]
    assert addresses_resolve("[::1]", 80, timeout_s=0) == ["::1"]


def test_localhost_resolves_through_the_system_resolver_to_loopback():
    addresses = addresses_resolve("localhost", 80, timeout_s=2)
    assert addresses
    assert all(address_is_private(address) for address in addresses)


def test_a_resolution_without_budget_left_times_out():
    with pytest.raises(ResolutionFailed) as caught:
        addresses_resolve("localhost", 80, timeout_s=0)
    assert caught.value.timed_out


def test_connection_addresses_refuses_a_host_not_on_the_list_in_plain_words():
    with pytest.raises(CheckRefused, match=r"127\.0\.0\.1:80 is not on this workspace's list"):
        connection_addresses("127.0.0.1", 80, ["127.0.0.1:8080"], timeout_s=1)


def test_connection_addresses_explains_a_name_that_resolves_only_to_private_addresses():
    name = name_resolving_to_private()
    if name is None:
        pytest.skip("this machine's host name does not resolve to a private address")
    with pytest.raises(CheckRefused, match=r"private, loopback or reserved"):
        connection_addresses(name, 80, [name], timeout_s=2)


def test_connection_addresses_uses_a_private_address_the_list_names():
    name = name_resolving_to_private()
    if name is None:
        pytest.skip("this machine's host name does not resolve to a private address")
    addresses = addresses_resolve(name, 80, timeout_s=2)
    assert connection_addresses(name, 80, [name, *addresses], timeout_s=2) == addresses
