"""`make run` end to end: embedded servers, migrations, web + worker + beat, /healthz, a clean
stop, and a second start that finds the data of the first."""

from tests.stack_runner import READY_LIMIT_S, stack_start


def test_make_run_serves_healthz_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"

    first = stack_start(data_dir)
    try:
        created = first.manage("add_tenant", "keepme", "--name", "Keep Me")
        assert created.returncode == 0, created.stderr
    finally:
        output = first.stop()
    assert first.process.returncode == 0, output
    assert first.ready_after_s < READY_LIMIT_S
    assert "Jamono is up" in output
    assert "stopped." in output
    # The servers this run started are down again.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / "redis" / "redis.port").exists()

    second = stack_start(data_dir)
    try:
        again = second.manage("add_tenant", "keepme", "--name", "Keep Me")
    finally:
        output = second.stop()
    assert second.process.returncode == 0, output
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout


def _raw_request(port: int, request: bytes) -> bytes:
    """Send ``request`` as written and return what the server answers before closing."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_make_run_scrubs_query_strings_refuses_huge_bodies_and_starts_two_workers(tmp_path):
    import urllib.request

    stack = stack_start(tmp_path / "data")
    try:
        url = f"{stack.url}/healthz?invite=SECRETINVITE&code=XYZCODE&lang=fr"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        # Declares 50 MB and sends none of it: refused at once, nothing read.
        answer = _raw_request(
            stack.port,
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n",
        )
    finally:
        output = stack.stop()
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert answer.endswith(b"\r\n\r\nRequest body too large.\n")
    assert "/healthz?invite=[redacted]&code=[redacted]&lang=fr" in output
    assert "SECRETINVITE" not in output
    assert "XYZCODE" not in output
    assert "answers worker started" in output
    assert "ingest worker started" in output
