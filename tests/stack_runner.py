"""Start `python -m jamono.stack` (what `make run` runs) in a test, on its own data folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.doubles.slack_requests import event_callback, signed_http_headers

ROOT = Path(__file__).resolve().parent.parent
READY_LIMIT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningStack:
    process: subprocess.Popen
    port: int
    env: dict[str, str]
    output: str = ""
    ready_after_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.output, _ = self.process.communicate(timeout=60)
        return self.output


def stack_environment(data_dir: Path, port: int, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(JAMONO_DATA_DIR=str(data_dir), PORT=str(port), **overrides)
    return env


def stack_start(data_dir: Path, **overrides: str) -> RunningStack:
    port = free_port()
    env = stack_environment(data_dir, port, **overrides)
    process = subprocess.Popen(
        [sys.executable, "-m", "jamono.stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(process=process, port=port, env=env)
    started = time.monotonic()
    while time.monotonic() - started < READY_LIMIT_S:
        if process.poll() is not None:
            raise RuntimeError(f"make run exited early:\n{stack.stop()}")
        try:
            with urllib.request.urlopen(f"{stack.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    stack.ready_after_s = time.monotonic() - started
                    return stack
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"/healthz not 200 within {READY_LIMIT_S}s:\n{stack.stop()}")


def slack_event_post(stack, event: dict, *, team_id: str, bot_user_id: str, secret: str) -> int:
    """POST ``event`` to the stack's ``/slack/events`` as Slack would: an event callback for
    ``team_id``, signed with ``secret``; the HTTP status."""
    body = json.dumps(event_callback(team_id, event, bot_user_id=bot_user_id))
    request = urllib.request.Request(
        f"{stack.url}/slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/json", **signed_http_headers(body, secret)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status
