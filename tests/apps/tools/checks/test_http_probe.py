import json
import time

import pytest

from apps.tools.checks.base import CheckRefused
from apps.tools.checks.http_probe import http_probe
from tests.apps.tools.checks.servers import (
    ProbeTarget,
    certificate_make,
    name_resolving_to_private,
    port_unused,
)

TIMEOUT_S = 0.6
# Scheduling slack on a loaded test machine: a probe ends this close to its deadline.
MARGIN_S = 0.5


@pytest.fixture
def target():
    with ProbeTarget() as server:
        yield server


@pytest.fixture
def other_target():
    with ProbeTarget() as server:
        yield server


def probe(url, allowlist, **limits):
    limits.setdefault("timeout_s", TIMEOUT_S)
    limits.setdefault("max_body_bytes", 64 * 1024)
    limits.setdefault("max_redirects", 3)
    return http_probe(url, allowlist=allowlist, **limits)


def test_an_allow_listed_endpoint_answers_ok_with_status_headers_and_a_clean_excerpt(target):
    result = probe(target.url("/ok"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "ok"
    assert result.status == 200
    assert result.hops[0].status == 200
    assert result.final_url == target.url("/ok")
    assert result.address == "127.0.0.1"
    assert result.content_type == "text/plain; charset=utf-8"
    assert result.server.startswith("BaseHTTP")
    assert result.excerpt == "Hello from the probe [31m target"
    assert not result.truncated
    assert result.bytes_read == len("Hello from the probe\x1b[31m\x00 target\n")
    assert "answered 200 OK" in result.detail
    assert target.paths == ["/ok"]
    json.dumps(result.as_dict())


def test_an_error_status_is_a_result_not_an_exception(target):
    result = probe(target.url("/status/503"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "http_error"
    assert result.status == 503
    assert "503 Service Unavailable" in result.detail
    assert result.excerpt == "it went wrong"


def test_a_server_that_does_not_answer_in_time_ends_in_a_timeout_at_the_deadline(target):
    started = time.monotonic()
    result = probe(target.url("/slow?s=5"), [f"127.0.0.1:{target.port}"])
    elapsed = time.monotonic() - started

    assert result.outcome == "timeout"
    assert result.status is None
    assert "No answer" in result.detail
    assert TIMEOUT_S - 0.05 <= elapsed < TIMEOUT_S + MARGIN_S


def test_a_server_that_trickles_its_body_cannot_hold_the_probe_past_the_deadline(target):
    started = time.monotonic()
    result = probe(target.url("/trickle"), [f"127.0.0.1:{target.port}"])
    elapsed = time.monotonic() - started

    assert result.outcome == "timeout"
    assert result.status == 200
    assert 0 < result.bytes_read < 100
    assert "still arriving" in result.detail
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_huge_body_is_cut_at_the_cap_and_reported_too_large(target):
    cap = 100_000
    result = probe(target.url("/huge"), [f"127.0.0.1:{target.port}"], max_body_bytes=cap)

    assert result.outcome == "too_large"
    assert result.truncated
    assert result.status == 200
    assert cap < result.bytes_read <= cap + 64 * 1024
    assert result.excerpt == ""  # application/octet-stream has no text excerpt
    assert f"larger than {cap} bytes" in result.detail


def test_a_redirect_to_the_cloud_metadata_address_is_refused_with_the_first_hops_status(target):
    allowlist = [f"127.0.0.1:{target.port}"]
    metadata = "http://169.254.169.254/latest/meta-data/"
    result = probe(target.url(f"/redirect?to={metadata}"), allowlist)

    assert result.outcome == "redirect_refused"
    assert result.status == 302
    assert [hop.status for hop in result.hops] == [302]
    assert result.refused_url == metadata
    assert "redirected to http://169.254.169.254/latest/meta-data/" in result.detail


def test_a_redirect_to_a_loopback_port_not_on_the_list_is_refused_and_never_requested(
    target, other_target
):
    elsewhere = other_target.url("/ok")
    result = probe(target.url(f"/redirect?to={elsewhere}"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "redirect_refused"
    assert result.refused_url == elsewhere
    assert "is not on this workspace's list" in result.detail
    assert other_target.connections == 0


def test_a_redirect_to_a_private_address_not_on_the_list_is_refused(target):
    result = probe(target.url("/redirect?to=http://10.255.255.1/"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "redirect_refused"
    assert result.refused_url == "http://10.255.255.1/"


def test_a_redirect_to_another_scheme_is_refused(target):
    result = probe(target.url("/redirect?to=file:///etc/passwd"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "redirect_refused"
    assert "Only http and https" in result.detail


def test_an_allowed_redirect_is_followed_and_each_hop_recorded(target, other_target):
    allowlist = [f"127.0.0.1:{target.port}", f"127.0.0.1:{other_target.port}"]
    result = probe(target.url(f"/redirect?to={other_target.url('/ok')}"), allowlist)

    assert result.outcome == "ok"
    assert [(hop.status, hop.url) for hop in result.hops] == [
        (302, target.url(f"/redirect?to={other_target.url('/ok')}")),
        (200, other_target.url("/ok")),
    ]
    assert "after 1 redirect" in result.detail


def test_a_redirect_to_a_slow_endpoint_times_out_at_the_deadline_of_the_whole_probe(target):
    started = time.monotonic()
    result = probe(target.url("/redirect?to=/slow"), [f"127.0.0.1:{target.port}"])
    elapsed = time.monotonic() - started

    assert result.outcome == "timeout"
    assert [hop.status for hop in result.hops] == [302]
    assert result.detail == f"No answer from {target.url('/slow')} within {TIMEOUT_S:g} s."
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_relative_redirect_is_resolved_against_the_current_url(target):
    result = probe(target.url("/redirect?to=/ok"), [f"127.0.0.1:{target.port}"])

    assert result.outcome == "ok"
    assert result.final_url == target.url("/ok")


def test_redirects_beyond_the_limit_stop_the_probe(target):
    loop = target.url("/redirect?to=/redirect%3Fto%3D/ok")
    result = probe(loop, [f"127.0.0.1:{target.port}"], max_redirects=1)

    assert result.outcome == "redirect_refused"
    assert len(result.hops) == 2
    assert "after 1 redirects" in result.detail


def test_a_host_not_on_the_list_is_refused_before_any_connection(target):
    with pytest.raises(CheckRefused, match="is not on this workspace's list"):
        probe(target.url("/ok"), [f"127.0.0.1:{target.port + 1}", "example.com"])
    with pytest.raises(CheckRefused):
        probe(target.url("/ok"), [])

    assert target.connections == 0


def test_a_name_on_the_list_resolving_to_a_private_address_is_refused_without_a_request(target):
    name = name_resolving_to_private()
    if name is None:
        pytest.skip("this machine's host name does not resolve to a private address")

    with pytest.raises(CheckRefused, match="private, loopback or reserved"):
        probe(target.url("/ok", host=name), [name])
    assert target.connections == 0

    # With the address named as well, the same name may be probed.
    result = probe(target.url("/ok", host=name), [name, f"127.0.0.1:{target.port}"])
    if result.outcome == "connect_error":
        pytest.skip(f"{name} resolves to an address the test server does not listen on")
    assert result.outcome == "ok"


def test_localhost_on_the_list_reaches_loopback_and_sends_its_name_as_host(target):
    result = probe(target.url("/host", host="localhost"), [f"localhost:{target.port}"])

    assert result.outcome == "ok"
    assert result.excerpt == f"localhost:{target.port}"
    assert result.address == "127.0.0.1"


def test_the_loopback_address_on_the_list_does_not_allow_the_name_localhost(target):
    with pytest.raises(CheckRefused):
        probe(target.url("/ok", host="localhost"), [f"127.0.0.1:{target.port}"])
    assert target.connections == 0


def test_an_ipv6_address_on_the_list_is_probed_with_a_bracketed_host_header():
    try:
        server = ProbeTarget(address="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        result = probe(f"http://[::1]:{server.port}/host", [f"[::1]:{server.port}"])

    assert result.outcome == "ok"
    assert result.address == "::1"
    assert result.excerpt == f"[::1]:{server.port}"


def test_an_ipv4_mapped_address_is_judged_as_the_ipv4_address(target):
    with pytest.raises(CheckRefused):
        probe(f"http://[::ffff:127.0.0.1]:{target.port}/ok", [f"[::1]:{target.port}"])

    result = probe(f"http://[::ffff:127.0.0.1]:{target.port}/ok", [f"127.0.0.1:{target.port}"])
    assert result.outcome == "ok"
    assert result.address == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/file",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "//127.0.0.1/no-scheme",
    ],
)
def test_schemes_other_than_http_and_https_are_refused(url):
    with pytest.raises(CheckRefused, match="Only http and https"):
        probe(url, ["127.0.0.1"])


def test_a_url_with_a_user_or_password_is_refused(target):
    with pytest.raises(CheckRefused, match="user name or password"):
        probe(f"http://admin:secret@127.0.0.1:{target.port}/ok", [f"127.0.0.1:{target.port}"])
    assert target.connections == 0


def test_nothing_listening_is_a_connect_error():
    port = port_unused()
    result = probe(f"http://127.0.0.1:{port}/", [f"127.0.0.1:{port}"])

    assert result.outcome == "connect_error"
    assert result.status is None
    assert "Could not connect to 127.0.0.1" in result.detail


def test_an_untrusted_certificate_is_a_tls_error(tmp_path):
    certificate = certificate_make(tmp_path)
    with ProbeTarget(tls=certificate.server_context()) as server:
        result = probe(server.url("/ok", host="localhost"), [f"localhost:{server.port}"])

    assert result.outcome == "tls_error"
    assert "certificate" in result.detail
    assert server.paths == []


def test_https_to_a_pinned_address_checks_the_certificate_against_the_host_name(
    tmp_path, monkeypatch
):
    certificate = certificate_make(tmp_path, names=("localhost",), addresses=())
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    with ProbeTarget(tls=certificate.server_context()) as server:
        by_name = probe(server.url("/host", host="localhost"), [f"localhost:{server.port}"])
        by_address = probe(server.url("/ok"), [f"127.0.0.1:{server.port}"])

    assert by_name.outcome == "ok"
    assert by_name.excerpt == f"localhost:{server.port}"
    # The certificate names localhost, not 127.0.0.1: asked by address, it does not match.
    assert by_address.outcome == "tls_error"
    assert "127.0.0.1" in by_address.detail
