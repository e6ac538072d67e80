"""Reading a file into chunks: parse, then chunk, under a CPU, memory and wall-clock budget.

Parsing is linear in the file's size, but a 10 MiB file is still seconds of work, a PDF holds
more work than its size says, and a bug in a parser library must not stop the worker or eat
its memory. So an untrusted file is read in a child process that gets its own limits:

- ``RLIMIT_CPU``: the kernel stops a child that computes too long, even one whose parent died;
- ``RLIMIT_AS``: memory beyond what the process held when it forked fails as MemoryError;
- a wall-clock timeout, after which the parent kills it (it may be blocked, not computing).

Why ``os.fork`` and a pipe, not the alternatives: a ``concurrent.futures.ProcessPoolExecutor``
cannot stop a call that is running (``cancel()`` only drops queued ones) and keeps its workers
between files; ``multiprocessing.Process`` refuses to start from a daemonic process, which
Celery's prefork pool workers are; Celery's ``time_limit`` kills the whole pool process, so the
task cannot say why the file failed, while ``soft_time_limit`` is an exception raised between
bytecodes, which a long C call (a regex, zlib) never sees, and neither works outside the
prefork pool (kb_ingest, ``task.apply()``); a fresh interpreter (spawn, a subprocess) would
import Django again for every file. A fork starts in milliseconds with the parsers, the
settings and the active language already loaded. The child never touches the database
connections it inherits, and leaves with ``os._exit``, so it closes none of them.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import time
from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.knowledge.chunking import ChunkDraft, document_chunk
from apps.knowledge.parsing import DocumentError, document_parse, file_kind

# How long a child that has written its outcome may take to exit (it does so at once).
EXIT_GRACE_S = 1.0


@dataclass(frozen=True)
class DocumentRead:
    """What reading a file gives: its title and kind, and its chunks in order."""

    title: str
    kind: str
    chunks: list[ChunkDraft]


def document_read(*, name: str, data: bytes) -> DocumentRead:
    """Parse and chunk ``data`` in this process. Raises DocumentError when it has no text."""
    parsed = document_parse(name=name, data=data)
    chunks = document_chunk(parsed)
    if not chunks:
        raise DocumentError(_("%(name)s: no text to index") % {"name": name})
    return DocumentRead(title=parsed.title, kind=parsed.kind, chunks=chunks)


def document_read_within_budget(*, name: str, data: bytes) -> DocumentRead:
    """``document_read`` in a child process, within ``KNOWLEDGE_PARSE_TIME_LIMIT_S`` (CPU and
    wall clock) and ``KNOWLEDGE_PARSE_MEMORY_MB``. Raises DocumentError with a one-line reason
    for a file that cannot be read or does not fit the budget."""
    if file_kind(name) == "pdf":
        import pypdf  # noqa: F401 - loaded once in this process, not in every child

    time_limit = settings.KNOWLEDGE_PARSE_TIME_LIMIT_S
    limits = _child_limits()
    receiving, sending = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(receiving)
        os.close(sending)
        raise
    if pid == 0:
        _child_read(receiving, sending, name, data, limits)  # never returns
    os.close(sending)
    output = None
    try:
        output = _output_until(receiving, deadline=time.monotonic() + time_limit)
    finally:
        os.close(receiving)
        # A child that wrote its outcome exits at once: a moment's grace; else it is killed.
        grace = EXIT_GRACE_S if output is not None else 0.0
        exit_code = _child_reap(pid, deadline=time.monotonic() + grace)
    if output is None:
        raise _over_time(time_limit)
    if exit_code != 0:
        raise _child_died(exit_code, time_limit)
    outcome, value = pickle.loads(output)  # noqa: S301 - written by our own child
    if outcome == "read":
        return value
    if outcome == "out_of_memory":
        raise _over_memory()
    raise DocumentError(value)


def _output_until(fd: int, *, deadline: float) -> bytes | None:
    """Everything the child writes, up to its end; None if that takes past ``deadline``."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child_reap(pid: int, *, deadline: float) -> int:
    """Wait for the child to exit, killing it at ``deadline``; its exit code (-N: killed by
    signal N)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        time.sleep(0.002)


@dataclass(frozen=True)
class _Limits:
    cpu_seconds: int
    address_space_bytes: int | None  # None: not measurable here (no /proc)


def _child_limits() -> _Limits:
    memory_allowance = settings.KNOWLEDGE_PARSE_MEMORY_MB * 1024 * 1024
    current = _address_space_bytes()
    return _Limits(
        cpu_seconds=max(1, math.ceil(settings.KNOWLEDGE_PARSE_TIME_LIMIT_S)),
        address_space_bytes=None if current is None else current + memory_allowance,
    )


def _address_space_bytes() -> int | None:
    """This process's virtual size: the child starts with all of it, so its limit is this
    plus the allowance (Linux; elsewhere only time is limited)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


def _child_read(receiving: int, sending: int, name: str, data: bytes, limits: _Limits) -> NoReturn:
    """The child's whole life: limits on, read, write the outcome to ``sending``, exit. It
    never returns, whatever happens: the caller's code must not go on in two processes."""
    exit_code = 1
    try:
        os.close(receiving)
        # The worker's own handlers (a warm shutdown) are not this child's business.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _limits_apply(limits)
        outcome = _outcome_of_reading(name, data)
        with os.fdopen(sending, "wb") as pipe:
            pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        exit_code = 0
    finally:
        os._exit(exit_code)  # no cleanup: the parent's connections and files stay its own


def _limits_apply(limits: _Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump core
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    if limits.address_space_bytes is not None:
        resource.setrlimit(
            resource.RLIMIT_AS, (limits.address_space_bytes, limits.address_space_bytes)
        )


def _outcome_of_reading(name: str, data: bytes) -> tuple[str, DocumentRead | str]:
    try:
        return "read", document_read(name=name, data=data)
    except DocumentError as exc:
        return "rejected", str(exc)
    except MemoryError:
        return "out_of_memory", ""
    except Exception as exc:  # a parser bug: this file fails, with the error's own words
        error = " ".join(str(exc).split())[:200] or type(exc).__name__
        return "rejected", _("the file could not be read: %(error)s") % {"error": error}


def _over_time(seconds: float) -> DocumentError:
    return DocumentError(
        ngettext(
            "reading the file took longer than %(seconds)s second",
            "reading the file took longer than %(seconds)s seconds",
            math.ceil(seconds),
        )
        % {"seconds": f"{seconds:g}"}
    )


def _over_memory() -> DocumentError:
    return DocumentError(
        _("reading the file needs more than %(megabytes)s MB of memory")
        % {"megabytes": settings.KNOWLEDGE_PARSE_MEMORY_MB}
    )


def _child_died(exit_code: int, time_limit: float) -> DocumentError:
    """A child gone without an answer: stopped by a limit, or crashed in a library."""
    if exit_code in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU's soft, then hard limit
        return _over_time(time_limit)
    return DocumentError(
        _("reading the file stopped unexpectedly (exit status %(status)s)") % {"status": exit_code}
    )
