"""Does a hostile upload slow the web server down? /healthz latency while three are read.

Starts the stack's web server (uvicorn, as `make run` does) and a Celery worker on embedded
PostgreSQL and Redis in a temporary folder, creates a tenant and a staff user with the
document permissions (the API through a session), then uploads three files that used to freeze
whoever parsed them:

- a 32 KB Markdown heading full of spaces (a quadratic heading regex: 5.8 s);
- ``"<a" * 30000`` as HTML (html.parser re-reads an unclosed tag from each "<": 1.5 s);
- a 9 KB PDF whose FlateDecode content stream inflates to 6 MB of text operators (12 s);

plus a small ordinary runbook as a control. Meanwhile it asks ``/healthz`` of the web process
every ~20 ms, each on a fresh connection, and prints the max and p99 latency seen (target:
under 100 ms), then each document's final status (ready or failed, with the reason) and how
long after its upload it got there. Embeddings come from a stand-in for Ollama's
``/api/embed`` in this process (a constant vector, at once), so that what is measured is the
reading; the new tenant's starter packs are embedded before the measurement starts.

    .venv/bin/python benchmarks/upload_budget.py [--rounds 10] [--web-workers 2]
        [--worker-concurrency 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench"
HOST = f"{SCHEMA}.localhost"
HEALTH_INTERVAL_S = 0.02
STATUS_INTERVAL_S = 0.1
EMBEDDING_DIMENSIONS = 768
FINAL_STATUSES = {"ready", "failed"}
# What the benchmark's staff user is made of, in the tenant's schema (printed: session key).
STAFF_USER_SCRIPT = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django_tenants.utils import schema_context

with schema_context("bench"):
    user = get_user_model().objects.create_user("bench-staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="knowledge"))
    client = Client()
    client.force_login(user)
    print(client.cookies["sessionid"].value)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# The files ------------------------------------------------------------------------------------


def _pdf(objects: dict[int, bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for number in sorted(objects):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_bomb(inflated_bytes: int = 6_000_000) -> bytes:
    """One page whose content stream inflates to ``inflated_bytes`` of "(a) Tj" operators."""
    operators = b"BT /F1 12 Tf " + b"(a) Tj " * (inflated_bytes // 7) + b"ET"
    stream = zlib.compress(operators, 9)
    return _pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            4: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
            5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        }
    )


def hostile_files() -> list[tuple[str, bytes]]:
    return [
        ("heading-32k.md", ("# x" + " " * 32_000 + "y\n\nBody.\n").encode()),
        ("unclosed-tags.html", b"<a" * 30_000),
        ("bomb.pdf", pdf_bomb()),
        ("control-runbook.md", b"# Disk full\n\n## Clean\n\nRun `journalctl --vacuum-size=1G`.\n"),
    ]


# A stand-in for Ollama's embeddings ------------------------------------------------------------


class _EmbedHandler(BaseHTTPRequestHandler):
    """``POST /api/embed``: one constant unit vector per input text."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        vector = [EMBEDDING_DIMENSIONS**-0.5] * EMBEDDING_DIMENSIONS
        reply = json.dumps({"model": body.get("model", ""), "embeddings": [vector] * len(texts)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, format, *args) -> None:  # the stdlib's signature
        pass


def embedding_server_start() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbedHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# HTTP -----------------------------------------------------------------------------------------


class Api:
    """Requests to the tenant's domain as the staff user (a session cookie, the CSRF pair)."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        csrf = secrets.token_hex(16)  # a CSRF secret of Django's length, sent back as the token
        self.headers = {
            "Host": HOST,
            "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
        }

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def upload(self, name: str, data: bytes, *, key: str) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        disposition = f"--{boundary}\r\nContent-Disposition: form-data; name="
        head = (
            f'{disposition}"key"\r\n\r\n{key}\r\n'
            f'{disposition}"file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
        content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", "/api/v1/knowledge/documents/", body, content_type)

    def documents(self) -> list[dict]:
        """This tenant's documents: all of them, the benchmark makes fewer than a page."""
        return self.request("GET", "/api/v1/knowledge/documents/?page_size=200")[1]["results"]

    def documents_waiting(self) -> int:
        """Documents not final yet (the starter packs, at first)."""
        return sum(
            # .get: a revision without some of these statuses refuses the filter (400).
            len(
                self.request("GET", f"/api/v1/knowledge/documents/?status={status}&page_size=200")[
                    1
                ].get("results", [])
            )
            for status in ("queued", "parsing", "embedding")
        )


def _healthz_ms(port: int) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"/healthz answered {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


class HealthPoller(threading.Thread):
    """Asks /healthz every HEALTH_INTERVAL_S until stopped; keeps every latency."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.latencies_ms: list[float] = []
        self.failures: list[str] = []  # no answer, or not 200
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.latencies_ms.append(_healthz_ms(self.port))
            except (OSError, RuntimeError, http.client.HTTPException) as exc:
                self.failures.append(type(exc).__name__)
            self.stopping.wait(HEALTH_INTERVAL_S)


# The stack ------------------------------------------------------------------------------------


def _stack_prepare(python: str, env: dict[str, str]) -> str:
    """Schemas, the tenant, its staff user; returns the user's session key."""
    for command in (["migrate_schemas", "-v", "0"], ["add_tenant", SCHEMA, "--name", "Bench"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603
    made = subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", STAFF_USER_SCRIPT],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


def _stack_start(python: str, env: dict[str, str], port: int, args) -> list[subprocess.Popen]:
    web = subprocess.Popen(  # noqa: S603
        [python, "-m", "uvicorn", "jamono.asgi:application", "--port", str(port),
         "--log-level", "warning", "--workers", str(args.web_workers)],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(  # noqa: S603
        [python, "-m", "celery", "-A", "jamono", "worker", "--loglevel", "WARNING",
         "--concurrency", str(args.worker_concurrency), "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            _healthz_ms(port)
            return [web, worker]
        except (OSError, RuntimeError):
            if time.monotonic() > deadline or web.poll() is not None or worker.poll() is not None:
                raise RuntimeError("the web server or the worker did not start") from None
            time.sleep(0.2)


def _stack_stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


# The measurement ------------------------------------------------------------------------------


def _uploads_follow(
    api: Api, files: list[tuple[str, bytes]], *, round_number: int, timeout_s: float
) -> list[dict]:
    """Upload every file (as new documents), then follow each until its status is final."""
    results = []
    for name, data in files:
        started = time.perf_counter()
        try:
            status, body = api.upload(name, data, key=f"round-{round_number}/{name}")
        except (OSError, http.client.HTTPException) as exc:
            status, body = type(exc).__name__, {}  # e.g. a web process killed mid-request
        results.append(
            {
                "name": name,
                "bytes": len(data),
                "started": started,
                "http": status,
                "answer_ms": (time.perf_counter() - started) * 1000,
                "document": body,
            }
        )
    deadline = time.monotonic() + timeout_s
    pending = {r["document"]["id"]: r for r in results if r["http"] in (200, 201, 202)}
    while pending and time.monotonic() < deadline:
        # One list request per look, not one per document: the web server measured is the
        # one answering these.
        for document in api.documents():
            result = pending.get(document["id"])
            if result is not None and document["status"] in FINAL_STATUSES:
                result["document"] = document
                result["final_s"] = time.perf_counter() - result["started"]
                del pending[document["id"]]
        time.sleep(STATUS_INTERVAL_S)
    return results


def _latency_line(label: str, latencies_ms: list[float]) -> str:
    return (
        f"{label:22} {len(latencies_ms):5} requests, p50 {statistics.median(latencies_ms):6.1f} "
        f"ms, p99 {_percentile(latencies_ms, 0.99):6.1f} ms, max {max(latencies_ms):6.1f} ms"
    )


def _final_of(result: dict) -> str:
    document = result["document"]
    final = document.get("status", "?") if "final_s" in result else "not final"
    return f"{final} ({document['failed_step']})" if document.get("failed_step") else final


def _report(idle: HealthPoller, busy: HealthPoller, results: list[dict]) -> None:
    idle_ms, busy_ms = idle.latencies_ms, busy.latencies_ms
    print()
    print(_latency_line("/healthz while idle:", idle_ms))
    print(_latency_line("/healthz during reads:", busy_ms))
    if busy.failures:
        print(f"/healthz during reads:  {len(busy.failures)} requests without an answer "
              f"({', '.join(sorted(set(busy.failures)))})")  # fmt: skip
    p99, worst = _percentile(busy_ms, 0.99), max(busy_ms)
    met = p99 < 100 and not busy.failures
    print(f"target < 100 ms: p99 {'met' if met else 'NOT met'}, "
          f"max {'met' if worst < 100 and not busy.failures else 'NOT met'}\n")  # fmt: skip
    print(f"{'file':19} {'bytes':>6} {'upload answer':>17} {'final status':>18} "
          f"{'time to final: median':>22} {'max':>7}  reason")  # fmt: skip
    for name in dict.fromkeys(r["name"] for r in results):
        rounds = [r for r in results if r["name"] == name]
        answers = ", ".join(sorted({str(r["http"]) for r in rounds}))
        answer_ms = max(r["answer_ms"] for r in rounds)
        finals = ", ".join(sorted({_final_of(r) for r in rounds}))
        times = [r["final_s"] for r in rounds if "final_s" in r] or [float("nan")]
        reason = rounds[-1]["document"].get("error", "")[:80]
        print(f"{name:19} {rounds[0]['bytes']:6} {answers:>5} max {answer_ms:5.0f} ms "
              f"{finals:>18} {statistics.median(times):21.2f}s {max(times):6.2f}s  "
              f"{reason}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery processes")
    parser.add_argument("--rounds", type=int, default=10, help="times the files are uploaded")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait, per round")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="jamono-bench-"))
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["JAMONO_DATA_DIR"] = str(data_dir / "data")
    sys.path.insert(0, str(ROOT))
    from jamono import embedded

    python = sys.executable
    children: list[subprocess.Popen] = []
    embeddings = None
    try:
        print("setting up embedded PostgreSQL/Redis, schemas, one tenant, its staff…", flush=True)
        embedded.embedded_services_ensure()  # exports DATABASE_URL / REDIS_URL to the children
        embeddings, embeddings_url = embedding_server_start()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "jamono.settings",
               "JAMONO_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
               "LLM_PROVIDER": "ollama", "OLLAMA_HOST": embeddings_url,
               "EMBEDDING_DIMENSIONS": str(EMBEDDING_DIMENSIONS),
               # It polls the documents' statuses faster than a script should.
               "JAMONO_API_RATE_LIMIT": ""}  # fmt: skip
        session_key = _stack_prepare(python, env)
        port = _free_port()
        children = _stack_start(python, env, port, args)
        api = Api(port, session_key)
        deadline = time.monotonic() + 120
        while api.documents_waiting() and time.monotonic() < deadline:
            time.sleep(0.5)  # the starter packs' embeddings, before anything is measured

        idle = HealthPoller(port)
        idle.start()
        time.sleep(3)
        idle.stopping.set()
        idle.join()

        busy = HealthPoller(port)
        busy.start()
        results = []
        for round_number in range(1, args.rounds + 1):
            results += _uploads_follow(
                api, hostile_files(), round_number=round_number, timeout_s=args.timeout
            )
            print(f"\rround {round_number}/{args.rounds}", end="", flush=True)
        time.sleep(1)  # and a little after the last one
        busy.stopping.set()
        busy.join()
        _report(idle, busy, results)
        return 0
    finally:
        _stack_stop(children)
        if embeddings is not None:
            embeddings.shutdown()
        embedded.redis_stop(data_dir / "data")
        embedded.postgres_stop(data_dir / "data")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
