import datetime
import json
import time

import pytest

from apps.tools.checks.base import CheckRefused
from apps.tools.checks.tls_check import host_matches_names, tls_certificate_check
from tests.apps.tools.checks.servers import (
    ProbeTarget,
    SilentServer,
    certificate_make,
    port_unused,
)

TIMEOUT_S = 0.6


def check(host, port, allowlist, **options):
    options.setdefault("timeout_s", TIMEOUT_S)
    return tls_certificate_check(host, port, allowlist=allowlist, **options)


@pytest.fixture
def ten_day_certificate(tmp_path):
    return certificate_make(tmp_path, names=("localhost",), addresses=("127.0.0.1",))


def test_a_self_signed_certificate_is_read_and_reported_as_not_verifying(ten_day_certificate):
    with ProbeTarget(tls=ten_day_certificate.server_context()) as server:
        report = check("localhost", server.port, [f"localhost:{server.port}"])

    assert report["outcome"] == "invalid"
    assert report["valid"] is False
    assert "self-signed" in report["verify_error"] or "self signed" in report["verify_error"]
    assert report["days_to_expiry"] in (9, 10)
    assert report["subject_cn"] == "localhost"
    assert report["issuer_cn"] == "localhost"
    assert report["issuer_organization"] == "Jamono Test CA"
    assert "O=Jamono Test CA" in report["issuer"]
    assert report["sans"] == ["localhost", "127.0.0.1"]
    assert report["host_matches"] is True
    assert report["self_signed"] is True
    assert report["address"] == "127.0.0.1"
    assert report["tls_version"] in ("TLSv1.2", "TLSv1.3")
    not_after = datetime.datetime.fromisoformat(report["not_after"])
    assert 9 < (not_after - datetime.datetime.now(datetime.UTC)).days + 1 <= 10
    assert "expires in 9 days" in report["detail"] or "expires in 10 days" in report["detail"]
    assert "does not verify" in report["detail"]
    json.dumps(report)


def test_a_trusted_certificate_verifies(ten_day_certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(ten_day_certificate.cert_path))
    with ProbeTarget(tls=ten_day_certificate.server_context()) as server:
        report = check("localhost", server.port, [f"localhost:{server.port}"])

    assert report["outcome"] == "ok"
    assert report["valid"] is True
    assert report["verify_error"] is None
    assert report["detail"].endswith("It verifies.")


def test_an_expired_certificate_has_negative_days_to_expiry(tmp_path, monkeypatch):
    expired = certificate_make(tmp_path, days_valid=-2, issued_days_ago=30)
    monkeypatch.setenv("SSL_CERT_FILE", str(expired.cert_path))
    with ProbeTarget(tls=expired.server_context()) as server:
        report = check("127.0.0.1", server.port, [f"127.0.0.1:{server.port}"])

    assert report["outcome"] == "invalid"
    assert report["valid"] is False
    assert "expired" in report["verify_error"]
    assert report["days_to_expiry"] in (-2, -3)
    assert "expired 2 days ago" in report["detail"] or "expired 3 days ago" in report["detail"]


def test_a_certificate_for_another_name_does_not_match_the_host(tmp_path, monkeypatch):
    other = certificate_make(tmp_path, names=("other.test",), addresses=(), common_name="other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other.cert_path))
    with ProbeTarget(tls=other.server_context()) as server:
        report = check("localhost", server.port, [f"localhost:{server.port}"])

    assert report["valid"] is False
    assert report["host_matches"] is False
    assert report["sans"] == ["other.test"]
    assert "localhost" in report["verify_error"]


def test_a_host_not_on_the_list_is_refused_without_a_connection(ten_day_certificate):
    with ProbeTarget(tls=ten_day_certificate.server_context()) as server:
        with pytest.raises(CheckRefused, match="is not on this workspace's list"):
            check("127.0.0.1", server.port, ["127.0.0.1:1", "example.com"])
        with pytest.raises(CheckRefused):
            check("localhost", server.port, [f"127.0.0.1:{server.port}"])

    assert server.connections == 0


def test_a_server_that_never_handshakes_is_a_timeout_within_the_budget():
    with SilentServer() as silent:
        started = time.monotonic()
        report = check("127.0.0.1", silent.port, [f"127.0.0.1:{silent.port}"])
        elapsed = time.monotonic() - started

    assert report["outcome"] == "timeout"
    assert report["valid"] is None
    assert elapsed < TIMEOUT_S + 0.5


def test_nothing_listening_is_a_connect_error():
    port = port_unused()
    report = check("127.0.0.1", port, [f"127.0.0.1:{port}"])

    assert report["outcome"] == "connect_error"
    assert "Could not connect" in report["detail"]


def test_a_plain_http_server_is_a_tls_error():
    with ProbeTarget() as server:
        report = check("127.0.0.1", server.port, [f"127.0.0.1:{server.port}"])

    assert report["outcome"] == "tls_error"


@pytest.mark.parametrize("port", [0, 65536, -1, "443", True])
def test_a_port_outside_the_tcp_range_is_refused(port):
    with pytest.raises(CheckRefused, match="not a TCP port"):
        check("localhost", port, ["localhost"])


def test_a_wildcard_name_covers_one_leftmost_label_only():
    assert host_matches_names("a.example.com", ["*.example.com"], [])
    assert not host_matches_names("a.b.example.com", ["*.example.com"], [])
    assert not host_matches_names("example.com", ["*.example.com"], [])
    assert not host_matches_names("a.com", ["*.com"], [])
    assert host_matches_names("10.0.0.1", ["10.0.0.1"], ["10.0.0.1"])
    assert not host_matches_names("10.0.0.1", ["10.0.0.1"], [])
