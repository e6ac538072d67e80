"""What the checks share: the refusal, the deadline, the result of an HTTP probe."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any


class CheckRefused(Exception):
    """A check that policy or its input forbids. Raised before any packet is sent to the
    target; the message says why in plain words."""


class Deadline:
    """A wall-clock budget (monotonic) that every blocking step of a check is clamped to."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.ends = self.started + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def clamp(self, timeout: float | None) -> float:
        """The time a step may block: its own limit, never past the deadline. Raises
        ``TimeoutError`` once the deadline has passed."""
        remaining = self.remaining()
        if remaining <= 0:
            raise TimeoutError(f"the {self.seconds:g} s budget is spent")
        return remaining if timeout is None else min(timeout, remaining)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def text_clean(text: str, limit: int) -> str:
    """``text`` without control and format characters (NUL, ANSI escapes, bidi overrides),
    whitespace collapsed, at most ``limit`` characters (an ellipsis marks a cut)."""
    kept = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )
    collapsed = " ".join(kept.split())
    if len(collapsed) > limit:
        return collapsed[: limit - 1] + "…"
    return collapsed


@dataclass(frozen=True)
class ProbeHop:
    """One response on the way: the URL asked and the status it answered."""

    status: int
    url: str


@dataclass
class ProbeResult:
    """What an HTTP probe found. ``outcome`` is one of ``ok`` (a status below 400),
    ``http_error`` (400 and above), ``timeout``, ``too_large`` (the body passed the cap),
    ``redirect_refused`` (a redirect to a place the policy forbids, or too many),
    ``connect_error`` (no connection, no name, no valid HTTP answer) or ``tls_error``; ``detail``
    says it in plain words. ``status`` is the last status received (None if none came)."""

    url: str
    outcome: str
    detail: str
    status: int | None = None
    final_url: str = ""
    hops: list[ProbeHop] = field(default_factory=list)
    refused_url: str | None = None
    address: str | None = None
    elapsed_ms: int = 0
    content_type: str = ""
    server: str = ""
    excerpt: str = ""
    bytes_read: int = 0
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
