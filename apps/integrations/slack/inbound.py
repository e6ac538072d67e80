"""The edge where Slack's HTTP requests enter: verify, parse, find the tenant.

Order matters: the signature and timestamp are checked on the raw body before anything else
reads it; only then is the payload parsed and its ``team_id`` looked up in the public schema.
Every failure is a ``SlackRequestError`` that carries the HTTP status to answer with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
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


# A NUL, or half of a UTF-16 surrogate pair, can travel in Slack's JSON (escaped: u0000, ud800)
# but not into PostgreSQL text nor UTF-8: replaced at the edge, the message is kept and answered.
_UNSTORABLE_CHARACTERS_RE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def storable(value):
    """``value`` (a payload, or any part of it) with every string made storable."""
    if isinstance(value, str):
        return _UNSTORABLE_CHARACTERS_RE.sub(REPLACEMENT_CHARACTER, value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def payload_parse(*, body: bytes, content_type: str) -> tuple[dict, str]:
    """The payload and its kind, from a JSON body (Events API) or a form (commands, actions);
    only payloads of the shape their kind needs are accepted (400 otherwise)."""
    payload, kind = _payload_read(body=body, content_type=content_type)
    payload = storable(payload)
    problem = _shape_problem(payload, kind)
    if problem:
        raise SlackRequestError(400, problem)
    return payload, kind


def _payload_read(*, body: bytes, content_type: str) -> tuple[dict, str]:
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


def _is_list_of_objects(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _shape_problem(payload: dict, kind: str) -> str | None:
    """What makes the payload unfit for its kind, as the listeners read it; None when fit."""
    if kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event object and its type"
    if kind == "interactivity":
        if not isinstance(payload.get("type"), str):
            return "interaction without a type"
        if "user" in payload and not isinstance(payload["user"], dict):
            return "interaction whose user is not an object"
        if payload["type"] == "block_actions" and not _is_list_of_objects(payload.get("actions")):
            return "block_actions without actions"
        if payload["type"] in {"view_submission", "view_closed"} and not isinstance(
            payload.get("view"), dict
        ):
            return f"{payload['type']} without a view object"
    return None


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
