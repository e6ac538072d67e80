"""What Slack sends to Jamono, built the way Slack builds it, for tests.

Shapes follow the official docs: the Events API envelope and events
(https://docs.slack.dev/apis/events-api/), slash commands
(https://docs.slack.dev/interactivity/implementing-slash-commands), block_actions payloads
(https://docs.slack.dev/reference/interaction-payloads/block_actions-payload) and request
signing (https://docs.slack.dev/authentication/verifying-requests-from-slack): ``v0=`` + hex
HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed by the app's signing secret.

Typical use with Django's test client::

    body = json.dumps(event_callback("T0JAMONO01", app_mention_event(text="<@U0JAMONOBOT> hi")))
    client.post("/slack/events", body, content_type="application/json",
                **signed_headers(body, settings.SLACK_SIGNING_SECRET))
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

DEFAULT_APP_ID = "A0JAMONO"
DEFAULT_BOT_USER_ID = "U0JAMONOBOT"
DEFAULT_USER_ID = "U0HUMAN001"
DEFAULT_CHANNEL_ID = "C0GENERAL1"
# The deprecated verification token Slack still puts in payloads; Jamono verifies signatures.
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"

_ts_counter = itertools.count(1)


def message_ts() -> str:
    """A fresh, increasing message timestamp of Slack's shape (``"1712345678.000100"``)."""
    micros = int(time.time()) * 1_000_000 + 100 * (next(_ts_counter) % 10_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def slack_signature(body: str | bytes, secret: str, timestamp: int) -> str:
    """``v0=<hex>``: what Slack puts in ``X-Slack-Signature`` for this body and time."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_http_headers(
    body: str | bytes, secret: str, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's signing headers as real HTTP header names (for requests/httpx/urllib)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Slack-Signature": slack_signature(body, secret, timestamp),
        "X-Slack-Request-Timestamp": str(timestamp),
    }


def signed_headers(body: str | bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signing headers as Django test client ``**extra`` (``HTTP_X_SLACK_…`` keys).

    ``timestamp`` defaults to now; pass an old one to test replay rejection. For real HTTP use
    ``signed_http_headers``.
    """
    plain = signed_http_headers(body, secret, timestamp)
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in plain.items()}


def event_callback(
    team_id: str,
    event: dict[str, Any],
    event_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    *,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    event_time: int | None = None,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """The Events API ``event_callback`` envelope around ``event`` (a dict to ``json.dumps``)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "enterprise_id": enterprise_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def app_mention_event(
    text: str = f"<@{DEFAULT_BOT_USER_ID}> hello",
    *,
    user: str = DEFAULT_USER_ID,
    channel: str = DEFAULT_CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """An ``app_mention`` event (someone wrote ``<@bot>`` in a channel the bot is in)."""
    ts = ts or message_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "client_msg_id": str(uuid.uuid4()),
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if team:
        event["team"] = team
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(
    text: str = "hello",
    *,
    user: str | None = DEFAULT_USER_ID,
    channel: str = "D0DIRECT01",
    channel_type: str = "im",
    ts: str | None = None,
    thread_ts: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    team: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event (``message.im`` by default: a DM to the bot).

    ``channel_type``: ``im``, ``channel``, ``group`` or ``mpim``. ``bot_id``: a message a bot
    posted (the bot's own answers come back this way). ``subtype``: e.g. ``message_changed``,
    ``bot_message``; ``extra`` fields are added as given (``message``, ``previous_message``…).
    """
    ts = ts or message_ts()
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if user is not None:
        event["user"] = user
    if subtype is None and bot_id is None:
        event["client_msg_id"] = str(uuid.uuid4())
    if team:
        event["team"] = team
    if thread_ts:
        event["thread_ts"] = thread_ts
    if bot_id:
        event["bot_id"] = bot_id
        event["app_id"] = DEFAULT_APP_ID
    if subtype:
        event["subtype"] = subtype
    event.update(extra)
    return event


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> dict:
    """The handshake Slack sends when an Events Request URL is saved."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def slash_command_form(
    team_id: str,
    command: str,
    text: str = "",
    user_id: str = DEFAULT_USER_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
    response_url: str = "https://hooks.slack.com/commands/T0JAMONO01/1234/abcd",
    trigger_id: str | None = None,
    *,
    team_domain: str = "jamono-test",
    channel_name: str = "general",
    user_name: str = "alice",
    api_app_id: str = DEFAULT_APP_ID,
) -> str:
    """A slash command as Slack POSTs it (``application/x-www-form-urlencoded`` body)."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _trigger_id(),
        }
    )


def button_action(
    action_id: str,
    value: str = "",
    *,
    block_id: str | None = None,
    text: str = "Approve",
    style: str | None = None,
) -> dict[str, Any]:
    """One clicked ``button`` element, as it appears in ``block_actions`` ``actions``."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or uuid.uuid4().hex[:5],
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": message_ts(),
    }
    if style:
        action["style"] = style
    return action


def block_actions_payload(
    team_id: str,
    actions: list[dict[str, Any]],
    user_id: str = DEFAULT_USER_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
    message_ts: str | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0JAMONO01/1234/abcd",
    trigger_id: str | None = None,
    *,
    message: dict[str, Any] | None = None,
    thread_ts: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    team_domain: str = "jamono-test",
    user_name: str = "alice",
) -> dict[str, Any]:
    """A ``block_actions`` interaction payload (a button clicked in a message)."""
    message_ts = message_ts or _message_ts_fresh()
    message = message or {
        "type": "message",
        "user": DEFAULT_BOT_USER_ID,
        "bot_id": "B" + DEFAULT_BOT_USER_ID[1:],
        "text": "",
        "ts": message_ts,
        **({"thread_ts": thread_ts} if thread_ts else {}),
    }
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
            **({"thread_ts": thread_ts} if thread_ts else {}),
        },
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }


def block_actions_form(team_id: str, actions: list[dict[str, Any]], **kwargs: Any) -> str:
    """A ``block_actions`` interaction as Slack POSTs it: form body ``payload=<json>``.

    Arguments as ``block_actions_payload``.
    """
    return urlencode({"payload": json.dumps(block_actions_payload(team_id, actions, **kwargs))})


def _message_ts_fresh() -> str:
    return message_ts()


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
