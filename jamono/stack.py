"""``make run``: the whole product in one terminal.

Starts (or attaches to) the embedded PostgreSQL and Redis when ``DATABASE_URL`` / ``REDIS_URL``
are unset, migrates the shared and tenant schemas, then runs the ASGI web server, two Celery
workers (one for answers; one for ingestion and housekeeping, so that a model that hangs holds
answer slots only) and Celery beat as child processes. Ctrl-C or SIGTERM stops the children,
then the embedded servers this run started. If any child dies, everything is stopped and the
exit status is non-zero, so a supervisor (or a person) notices.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15


def _log(message: str) -> None:
    print(f"[jamono] {message}", flush=True)


def _child_environment() -> tuple[dict[str, str], object]:
    """This process's environment, which holds the URLs ``embedded_services_ensure`` exported:
    children attach to those servers instead of each racing to start them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamono.settings")
    import django
    from django.conf import settings

    django.setup()
    env = dict(os.environ)
    env["JAMONO_DATA_DIR"] = str(settings.DATA_DIR)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env, settings


def child_commands(python: str, settings) -> dict[str, list[str]]:
    """The processes ``make run`` starts, by name."""
    queues = settings.TASK_QUEUES
    celery = [python, "-m", "celery", "-A", "jamono"]
    return {
        "web": [python, "-m", "uvicorn", "jamono.asgi:application",
                "--host", settings.BIND_HOST, "--port", str(settings.PORT),
                "--log-level", "info", "--workers", str(settings.WEB_WORKERS)],
        "answers worker": [*celery, "worker", "-l", "INFO", "-n", "answers@%h",
                           "-Q", queues["answers"],
                           "--concurrency", str(settings.CELERY_WORKER_CONCURRENCY)],
        "ingest worker": [*celery, "worker", "-l", "INFO", "-n", "ingest@%h",
                          "-Q", f"{queues['ingest']},{queues['housekeeping']}",
                          "--concurrency", str(settings.INGEST_WORKER_CONCURRENCY)],
        "beat": [*celery, "beat", "-l", "INFO", "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
    }  # fmt: skip


def _wait_until_healthy(url: str, children: list[subprocess.Popen]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    python = sys.executable
    root = Path(__file__).resolve().parent.parent

    _log("starting services (embedded PostgreSQL/Redis when DATABASE_URL/REDIS_URL are unset)…")
    from jamono import embedded

    services = embedded.embedded_services_ensure()
    env, settings = _child_environment()
    port, host = settings.PORT, settings.BIND_HOST

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children: list[subprocess.Popen] = []
    names: dict[int, str] = {}  # pid -> name, to say which one died
    exit_code = 0
    try:
        _log("migrating shared and tenant schemas…")
        subprocess.run(  # noqa: S603
            [python, "manage.py", "migrate_schemas", "-v", "0"], cwd=root, env=env, check=True
        )
        for name, command in child_commands(python, settings).items():
            # Own session: Ctrl-C reaches only this supervisor, which stops children in order.
            children.append(
                subprocess.Popen(command, cwd=root, env=env, start_new_session=True)  # noqa: S603
            )
            names[children[-1].pid] = name
            _log(f"{name} started (pid {children[-1].pid})")

        display_host = "localhost" if host in {"127.0.0.1", "0.0.0.0"} else host  # noqa: S104
        health_url = f"http://127.0.0.1:{port}/healthz"
        if _wait_until_healthy(health_url, children):
            _log(f"Jamono is up: http://{display_host}:{port}/  (admin: /admin/, health: /healthz)")
            _log("Ctrl-C stops everything.")
        elif not stopping:
            _log(f"not healthy after {READY_TIMEOUT_S}s or a process exited; stopping")
            exit_code = 1
            stopping = True

        while not stopping:
            dead = [child for child in children if child.poll() is not None]
            if dead:
                _log(f"{names[dead[0].pid]} exited with {dead[0].returncode}; stopping")
                exit_code = 1
                break
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        _log(f"setup step failed ({exc.returncode}); stopping")
        exit_code = 1
    finally:
        _log("stopping…")
        _stop(children)
        services.stop_started_here()
        _log("stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
