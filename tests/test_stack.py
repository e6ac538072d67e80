"""`make run` end to end: embedded servers, migrations, web + worker + beat, /healthz, a clean
stop, and a second start that finds the data of the first."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READY_LIMIT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(JAMONO_DATA_DIR=str(data_dir), PORT=str(port), DJANGO_SETTINGS_MODULE="")
    env.pop("DJANGO_SETTINGS_MODULE")
    return env


def _wait_healthy(port: int, process: subprocess.Popen) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_LIMIT_S:
        assert process.poll() is None, f"make run exited early with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"/healthz not 200 within {READY_LIMIT_S}s")


def _start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jamono.stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_run_serves_healthz_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"
    port = _free_port()
    env = _environment(data_dir, port)

    first = _start(env)
    try:
        seconds = _wait_healthy(port, first)
        created = _manage(env, "add_tenant", "keepme", "--name", "Keep Me")
        assert created.returncode == 0, created.stderr
    finally:
        output = _stop(first)
    assert first.returncode == 0, output
    assert seconds < READY_LIMIT_S
    assert "Jamono is up" in output
    assert "stopped." in output
    # The servers this run started are down again.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / "redis" / "redis.port").exists()

    second = _start(env)
    try:
        _wait_healthy(port, second)
        again = _manage(env, "add_tenant", "keepme", "--name", "Keep Me")
    finally:
        output = _stop(second)
    assert second.returncode == 0, output
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
