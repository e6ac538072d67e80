"""How fast /slack/events acknowledges signed events under a burst of 50 concurrent ones.

Starts the ASGI web server (uvicorn, as `make run` does) on embedded PostgreSQL and Redis in a
temporary folder, creates a tenant with a Slack workspace, then, round after round, sends 50
concurrent requests to a bare Django view and 50 concurrent signed `app_mention` events (each
verified, routed to its tenant, stored and its answer task published to the broker before
the 200). Prints p50/p99 of both and their ratio, and how long after
a burst's last acknowledgement all of its tasks were in the broker's queue. Targets: events
p99 < 250 ms and p99 <= 2x the bare view's.

    .venv/bin/python benchmarks/slack_ack.py [--rounds 30] [--concurrency 50] [--workers 2]
        [--variant NAME=GITREF …] [--login-hammer N]

With ``--variant`` (repeatable) it measures several revisions of the product in one run, each
from its own git worktree and server, their rounds alternating so that all of them meet the
same machine load: e.g. a framework piece written by hand against the stock one that replaced
it (``--variant home-made=HEAD~1 --variant stock=HEAD``).

With ``--login-hammer N``, N clients (coroutines of one separate process, per server) post
wrong passwords to /admin/login/ without pause, from before the warm-up rounds to the end: a
brute force on the admin while Slack events are acknowledged. It prints what they were answered
(200: the form again; 429: locked out), and their rate.

30 rounds give p99 over 1,500 requests of each kind: over 500, one slow round (another process
waking up on this 2-core machine) decides the p99 alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-signing-secret"  # noqa: S105 - a throwaway secret for this run
TEAM_ID, BOT_USER_ID = "T0BENCH001", "U0BENCH001"
# A fake token of the right shape (built here so it never reads like a leaked secret).
BOT_TOKEN = "-".join(["xoxb", "1" * 7, "2" * 7, "b" * 24])
# The operators' admin account the login hammer guesses the password of.
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "benchmark-admin-" + uuid.uuid4().hex


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _signed_event(n: int) -> tuple[bytes, dict[str, str]]:
    ts = f"{int(time.time())}.{n:06d}"
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A0BENCH001",
            "event_id": "Ev" + uuid.uuid4().hex[:12].upper(),
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U0PERSON01",
                "text": f"<@{BOT_USER_ID}> benchmark question {n}",
                "ts": ts,
                "channel": f"C0BENCH{n % 7}",
                "event_ts": ts,
            },
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + signature.hexdigest(),
    }


def _timed_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> float:
    """One request on its own connection, blocking (used to wait for the server)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


async def _timed_post_async(port: int, path: str, body: bytes, headers: dict[str, str]) -> float:
    """One request on a fresh connection, as Slack sends them; returns the latency in ms."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{head}\r\n"
    ).encode() + body
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
    finally:
        writer.close()
    elapsed = (time.perf_counter() - started) * 1000
    if b" 200 " not in status_line:
        raise RuntimeError(f"{path} answered {status_line!r}")
    return elapsed


def _burst(port: int, requests: list[tuple[str, bytes, dict]]) -> list[float]:
    """All requests at once from one event loop (threads would queue on the client's GIL
    and count that wait as server latency)."""

    async def fire_all():
        return await asyncio.gather(*(_timed_post_async(port, *item) for item in requests))

    return list(asyncio.run(fire_all()))


def _queue_length_wait(queue, expected: int, timeout_s: float = 10.0) -> float:
    """Milliseconds until the broker's queue holds ``expected`` messages."""
    started = time.perf_counter()
    while queue() < expected:
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"only {queue()} of {expected} tasks reached the broker")
        time.sleep(0.001)
    return (time.perf_counter() - started) * 1000


async def _http_exchange(
    port: int, request_line: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, str, bytes]:
    """One request on a fresh connection; the status, the response head, and its body."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"{request_line} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{head}\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # until the server closes
    finally:
        writer.close()
    response_head, _, response_body = answer.partition(b"\r\n\r\n")
    head_text = response_head.decode("latin-1")
    return int(head_text.split(" ", 2)[1]), head_text, response_body


async def _login_form_get(port: int) -> tuple[str, str]:
    """The CSRF cookie and form token of the admin's login page."""
    _, head, body = await _http_exchange(port, "GET /admin/login/", {})
    cookie = re.search(r"csrftoken=([^;\s]+)", head)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not (cookie and token):
        raise RuntimeError("the admin login page gave no CSRF token")
    return cookie.group(1), token.group(1).decode()


async def _login_guesser(port: int, stop, statuses: Counter) -> None:
    """Posts wrong passwords, a valid form each time, as fast as the server answers."""
    cookie, token = await _login_form_get(port)
    guess = 0
    while not stop.is_set():
        guess += 1
        form = {"csrfmiddlewaretoken": token, "username": ADMIN_USERNAME,
                "password": f"guess-{guess}", "next": "/admin/"}  # fmt: skip
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
        }
        try:
            status, _, _ = await _http_exchange(
                port, "POST /admin/login/", headers, urlencode(form).encode()
            )
        except OSError:
            status = 0  # refused or reset: counted, and the guessing goes on
        statuses[status] += 1


def _login_hammer_run(port: int, clients: int, stop, results) -> None:
    """A separate process (the measuring client's event loop stays its own): ``clients``
    guessers until ``stop`` is set, then their answers' statuses and rate into ``results``."""

    async def guess_until_stopped() -> Counter:
        statuses: Counter = Counter()
        await asyncio.gather(*(_login_guesser(port, stop, statuses) for _ in range(clients)))
        return statuses

    started = time.perf_counter()
    statuses = asyncio.run(guess_until_stopped())
    results.put((dict(statuses), time.perf_counter() - started))


@dataclass
class LoginHammer:
    """N wrong-password clients against one server, in a process of their own."""

    port: int
    clients: int
    stop: object = field(default_factory=multiprocessing.Event)
    results: object = field(default_factory=multiprocessing.Queue)
    process: multiprocessing.Process | None = None

    def start(self) -> None:
        self.process = multiprocessing.Process(
            target=_login_hammer_run,
            args=(self.port, self.clients, self.stop, self.results),
            daemon=True,
        )
        self.process.start()

    def finish(self) -> tuple[dict[int, int], float]:
        self.stop.set()
        statuses, elapsed_s = self.results.get(timeout=60)
        self.process.join(timeout=30)
        return statuses, elapsed_s


@dataclass
class Variant:
    """One revision of the product under test: its server, and what it measured."""

    name: str
    root: Path
    port: int = 0
    server: subprocess.Popen | None = None
    bare_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)
    enqueued_after_ack_ms: list[float] = field(default_factory=list)
    hammer: LoginHammer | None = None
    hammer_statuses: dict[int, int] = field(default_factory=dict)
    hammer_elapsed_s: float = 0.0


def _variants_prepare(specs: list[str], work_dir: Path) -> list[Variant]:
    """``NAME=GITREF`` → a detached git worktree of that revision (this tree when none)."""
    if not specs:
        return [Variant(name="this tree", root=ROOT)]
    variants = []
    for spec in specs:
        name, _, ref = spec.partition("=")
        root = work_dir / f"variant-{len(variants)}"
        subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(root), ref or name],  # noqa: S607
            check=True,
        )
        variants.append(Variant(name=name, root=root))
    return variants


def _variants_remove(variants: list[Variant]) -> None:
    for variant in variants:
        if variant.root != ROOT:
            subprocess.run(  # noqa: S603
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(variant.root)],  # noqa: S607
                check=False,
            )


def _server_start(variant: Variant, env: dict[str, str], workers: int) -> None:
    """uvicorn, as `make run` starts it, on the variant's own code (its worktree comes first on
    the import path: ``python -m`` puts the working directory there)."""
    variant.port = _free_port()
    variant.server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "jamono.asgi:application", "--port",
         str(variant.port), "--log-level", "warning", "--workers", str(workers)],
        cwd=variant.root, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            _timed_post(variant.port, "/bench/bare", b"", {})
            return
        except (OSError, RuntimeError):
            if time.monotonic() > deadline or variant.server.poll() is not None:
                raise
            time.sleep(0.2)


def _round(variant: Variant, args, queued, counter: list[int], *, record: bool) -> None:
    bare = _burst(variant.port, [("/bench/bare", b"", {})] * args.concurrency)
    events = []
    for _ in range(args.concurrency):
        counter[0] += 1
        events.append(("/slack/events", *_signed_event(counter[0])))
    in_queue = queued()
    acked = _burst(variant.port, events)
    enqueued = _queue_length_wait(queued, in_queue + len(events))
    if record:
        variant.bare_ms += bare
        variant.event_ms += acked
        variant.enqueued_after_ack_ms.append(enqueued)


def _report(variant: Variant, args) -> None:
    bare_p50, bare_p99 = statistics.median(variant.bare_ms), _percentile(variant.bare_ms, 0.99)
    event_p50 = statistics.median(variant.event_ms)
    event_p99 = _percentile(variant.event_ms, 0.99)
    ratio = event_p99 / bare_p99 if bare_p99 else float("inf")
    print(f"\n== {variant.name} ({variant.root})")
    print(f"samples: {len(variant.event_ms)} events, {len(variant.bare_ms)} bare requests, "
          f"{args.concurrency} concurrent, uvicorn workers: {args.workers}")  # fmt: skip
    print(f"bare Django view   p50 {bare_p50:7.1f} ms   p99 {bare_p99:7.1f} ms")
    print(f"/slack/events ack  p50 {event_p50:7.1f} ms   p99 {event_p99:7.1f} ms")
    print(f"ratio p99 events / bare: {ratio:.2f}x   (p50 ratio {event_p50 / bare_p50:.2f}x)")
    print(f"all of a burst's tasks in the broker, after its last ack: "
          f"median {statistics.median(variant.enqueued_after_ack_ms):.1f} ms, "
          f"max {max(variant.enqueued_after_ack_ms):.1f} ms")  # fmt: skip
    print(f"target p99 < 250 ms: {'met' if event_p99 < 250 else 'NOT met'}; "
          f"target p99 <= 2x bare: {'met' if ratio <= 2 else 'NOT met'}")  # fmt: skip
    if variant.hammer is not None:
        total = sum(variant.hammer_statuses.values())
        answered = ", ".join(
            f"{status}: {count}" for status, count in sorted(variant.hammer_statuses.items())
        )
        print(f"login hammer: {variant.hammer.clients} clients, {total} wrong passwords posted "
              f"({total / variant.hammer_elapsed_s:.0f}/s) over {variant.hammer_elapsed_s:.0f} s;"
              f" answered {answered}")  # fmt: skip


def _postgres_connections_allow(embedded, data_dir: Path, variants: int) -> None:
    """Room for every variant's pools: each uvicorn worker may hold DATABASE_POOL_MAX_SIZE
    connections, more than PostgreSQL's default 100 once several variants run side by side."""
    import psycopg

    needed = 2 * variants * int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")) * 2 + 20
    if needed <= 100:
        return
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET max_connections = {int(needed)}")
    embedded.postgres_stop(data_dir)
    embedded.postgres_ensure(data_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (make run starts 2)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=GITREF",
        help="measure this revision (repeatable; their rounds alternate, so all are measured "
        "under the same conditions); default: this working tree",
    )
    parser.add_argument(
        "--login-hammer",
        type=int,
        default=0,
        metavar="N",
        help="meanwhile, N clients per server post wrong passwords to /admin/login/ nonstop",
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="jamono-bench-"))
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["JAMONO_DATA_DIR"] = str(data_dir / "data")
    sys.path.insert(0, str(ROOT))
    from jamono import embedded

    python = sys.executable
    variants: list[Variant] = []
    try:
        variants = _variants_prepare(args.variant, data_dir)
        print("setting up embedded PostgreSQL/Redis, schemas, one tenant…", flush=True)
        # Exports DATABASE_URL / REDIS_URL: manage.py (on the benchmark's settings) and every
        # variant's uvicorn use these servers.
        embedded.embedded_services_ensure()
        _postgres_connections_allow(embedded, data_dir / "data", len(variants))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.ack_settings",
            "SLACK_SIGNING_SECRET": SECRET,
            "JAMONO_LOG_LEVEL": "WARNING",
        }
        for command in (
            ["migrate_schemas", "-v", "0"],
            ["add_tenant", "bench", "--name", "Benchmark"],
            ["connect_slack", "bench", "--team-id", TEAM_ID, "--bot-token", BOT_TOKEN,
             "--bot-user-id", BOT_USER_ID],
        ):  # fmt: skip
            subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603
        if args.login_hammer:
            subprocess.run(  # noqa: S603
                [python, "manage.py", "createsuperuser", "--noinput", "--username",
                 ADMIN_USERNAME, "--email", "admin@example.com"],
                cwd=ROOT, env={**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD}, check=True,
            )  # fmt: skip
        for variant in variants:
            _server_start(variant, env, args.workers)
        if args.login_hammer:
            for variant in variants:
                variant.hammer = LoginHammer(variant.port, args.login_hammer)
                variant.hammer.start()

        import redis

        broker = redis.Redis.from_url(os.environ["REDIS_URL"])
        queued = lambda: broker.llen("jamono")  # noqa: E731 - CELERY_TASK_DEFAULT_QUEUE
        counter = [0]
        for variant in variants:
            for _warmup in range(2):
                _round(variant, args, queued, counter, record=False)
        for round_number in range(1, args.rounds + 1):
            for variant in variants:
                _round(variant, args, queued, counter, record=True)
            print(f"\rround {round_number}/{args.rounds}", end="", flush=True)
        print()
        for variant in variants:
            if variant.hammer is not None:
                variant.hammer_statuses, variant.hammer_elapsed_s = variant.hammer.finish()
        for variant in variants:
            _report(variant, args)
        return 0
    finally:
        for variant in variants:
            if variant.hammer is not None:
                variant.hammer.stop.set()
            if variant.server is not None:
                variant.server.send_signal(signal.SIGTERM)
                variant.server.wait(timeout=30)
        embedded.redis_stop(data_dir / "data")
        embedded.postgres_stop(data_dir / "data")
        _variants_remove(variants)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
