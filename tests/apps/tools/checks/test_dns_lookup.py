import time

import pytest

from apps.tools.checks.base import CheckRefused
from apps.tools.checks.dns_lookup import MAX_RECORDS, dns_lookup
from tests.apps.tools.checks.servers import DnsServer

RECORDS = {
    "example.test": {
        "A": ["192.0.2.10", "192.0.2.11"],
        "MX": ["10 mail.example.test.", "20 backup.example.test."],
        "TXT": ['"v=spf1 -all"', '"two " "strings\x1b"'],
    },
    "www.example.test": {"CNAME": ["example.test."]},
    "many.example.test": {"A": [f"10.0.0.{n}" for n in range(1, 61)]},
    "1.0.0.127.in-addr.arpa": {"PTR": ["localhost."]},
    "_sip._tcp.example.test": {"SRV": ["10 5 5060 sip.example.test."]},
}
TIMEOUT_S = 0.6


@pytest.fixture
def server():
    with DnsServer(RECORDS) as dns_server:
        yield dns_server


def lookup(server, name, record_type="A", **options):
    options.setdefault("timeout_s", TIMEOUT_S)
    return dns_lookup(name, record_type, nameservers=[server.address], **options)


def test_an_a_lookup_lists_the_addresses_with_their_ttl(server):
    answer = lookup(server, "example.test")

    assert answer["outcome"] == "ok"
    assert sorted(answer["records"]) == ["192.0.2.10", "192.0.2.11"]
    assert answer["ttl"] == 300
    assert answer["name"] == "example.test"
    assert answer["detail"] == "example.test has 2 A records."
    assert server.queries == [("example.test", "A")]


def test_an_mx_lookup_lists_preference_and_exchange(server):
    answer = lookup(server, "example.test.", "mx")

    assert answer["type"] == "MX"
    assert sorted(answer["records"]) == ["10 mail.example.test.", "20 backup.example.test."]


def test_a_txt_lookup_joins_the_strings_of_a_record_and_strips_control_characters(server):
    answer = lookup(server, "example.test", "TXT")

    assert sorted(answer["records"]) == ["two strings", "v=spf1 -all"]


def test_a_ptr_lookup_of_an_ip_address_asks_for_its_reverse_name(server):
    answer = lookup(server, "127.0.0.1", "PTR")

    assert answer["outcome"] == "ok"
    assert answer["name"] == "1.0.0.127.in-addr.arpa"
    assert answer["records"] == ["localhost."]


def test_an_srv_name_with_underscores_is_a_valid_name(server):
    answer = lookup(server, "_sip._tcp.example.test", "SRV")

    assert answer["records"] == ["10 5 5060 sip.example.test."]


def test_an_alias_is_followed_and_its_canonical_name_reported(server):
    answer = lookup(server, "www.example.test")

    assert sorted(answer["records"]) == ["192.0.2.10", "192.0.2.11"]
    assert answer["canonical_name"] == "example.test"


def test_a_name_that_does_not_exist_is_nxdomain_in_plain_words(server):
    answer = lookup(server, "missing.example.test")

    assert answer["outcome"] == "nxdomain"
    assert answer["records"] == []
    assert answer["detail"] == "missing.example.test does not exist (NXDOMAIN)."


def test_a_name_without_records_of_the_type_is_no_answer(server):
    answer = lookup(server, "example.test", "AAAA")

    assert answer["outcome"] == "no_answer"
    assert answer["detail"] == "example.test exists but has no AAAA record."


def test_records_are_capped(server):
    answer = lookup(server, "many.example.test")

    assert answer["outcome"] == "ok"
    assert len(answer["records"]) == MAX_RECORDS
    assert answer["truncated"]
    assert "60 A records, the first 50 shown" in answer["detail"]


def test_a_server_that_never_answers_is_a_timeout_within_the_budget():
    with DnsServer({}, silent=True) as silent:
        started = time.monotonic()
        answer = dns_lookup("example.test", nameservers=[silent.address], timeout_s=TIMEOUT_S)
        elapsed = time.monotonic() - started

    assert answer["outcome"] == "timeout"
    assert answer["detail"] == f"No DNS answer for example.test within {TIMEOUT_S:g} s."
    assert elapsed < TIMEOUT_S + 0.5


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "exa mple.test",
        "a..b",
        "-leading.example.test",
        "x" * 64 + ".example.test",
        ".".join(["abcdefghi"] * 26),
        "name\\046with.escape",
        "*.example.test",
    ],
)
def test_an_invalid_name_is_refused_before_asking(server, name):
    with pytest.raises(CheckRefused, match="not a valid DNS name"):
        lookup(server, name)
    assert server.queries == []


@pytest.mark.parametrize("record_type", ["ANY", "AXFR", "HINFO", "A; rm -rf"])
def test_a_record_type_outside_the_list_is_refused(server, record_type):
    with pytest.raises(CheckRefused, match="not a record type"):
        lookup(server, "example.test", record_type)
    assert server.queries == []


def test_no_record_type_means_a(server):
    assert lookup(server, "example.test", "")["type"] == "A"


def test_an_international_name_is_asked_in_its_idna_form(server):
    answer = lookup(server, "bücher.test")

    assert answer["outcome"] == "nxdomain"
    assert server.queries == [("xn--bcher-kva.test", "A")]
