"""The edge where Slack's HTTP requests enter: verify, parse, find the tenant.

Order matters: the signature and timestamp are checked on the raw body before anything else
reads it; only then is the payload parsed and its ``team_id`` looked up in the public schema.
Every failure is a ``SlackRequestError`` that carries the HTTP status to answer with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from apps.integrations.slack.selectors import SlackTeamRoute, slack_team_route_cached

MAX_REQUEST_AGE_S = 5 * 60
MAX_BODY_BYTES = 1_000_000


class SlackRequestError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SlackInbound:
    """A verified request: its parsed payload, its kind, and the team it came from."""

    payload: dict
    kind: str  # "url_verification" | "event_callback" | "slash_command" | "interactivity" | …
    team_id: str | None


def signature_verify(
    *, body: bytes, timestamp: str | None, signature: str | None, secret: str, now: float
) -> None:
    if not secret:
        raise SlackRequestError(503, "SLACK_SIGNING_SECRET is not configured")
    if not timestamp or not signature:
        raise SlackRequestError(401, "missing Slack signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SlackRequestError(401, "malformed Slack request timestamp") from exc
    if abs(now - sent_at) > MAX_REQUEST_AGE_S:
        # Too old (or from the future): a replay of a captured request.
        raise SlackRequestError(403, "stale Slack request timestamp")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SlackRequestError(401, "invalid Slack signature")


def team_id_of(payload: dict) -> str | None:
    """The team a payload comes from, however Slack spells it (``team_id``, ``team`` as an id
    or as ``{"id": …}``, ``user.team_id``): read the same way for routing and storing."""
    team = payload.get("team_id") or payload.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if not team and isinstance(payload.get("user"), dict):
        team = payload["user"].get("team_id")
    return team if isinstance(team, str) and team else None


def payload_parse(*, body: bytes, content_type: str) -> tuple[dict, str]:
    """The payload and its kind, from a JSON body (Events API) or a form (commands, actions)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SlackRequestError(400, "request body is not UTF-8") from exc
    if content_type.startswith("application/json"):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SlackRequestError(400, "request body is not valid JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise SlackRequestError(400, "Events API payload without a type")
        return payload, payload["type"]
    form = {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except json.JSONDecodeError as exc:
            raise SlackRequestError(400, "interactivity payload is not valid JSON") from exc
        if not isinstance(payload, dict):
            raise SlackRequestError(400, "interactivity payload is not an object")
        return payload, "interactivity"
    if "command" in form:
        return form, "slash_command"
    if form.get("ssl_check") == "1":
        return form, "ssl_check"
    raise SlackRequestError(400, "unrecognised Slack payload")


def slack_request_read(
    *, body: bytes, headers, content_type: str, secret: str, now: float | None = None
) -> SlackInbound:
    if len(body) > MAX_BODY_BYTES:
        raise SlackRequestError(413, "request body too large")
    signature_verify(
        body=body,
        timestamp=headers.get("X-Slack-Request-Timestamp"),
        signature=headers.get("X-Slack-Signature"),
        secret=secret,
        now=time.time() if now is None else now,
    )
    payload, kind = payload_parse(body=body, content_type=content_type or "")
    return SlackInbound(payload=payload, kind=kind, team_id=team_id_of(payload))


# Where the view hands the tenant route to Bolt's authorize step and to the listeners.
ROUTE_CONTEXT_KEY = "jamono_route"


def slack_route_for(inbound: SlackInbound) -> SlackTeamRoute | None:
    if not inbound.team_id:
        return None
    return slack_team_route_cached(team_id=inbound.team_id)
