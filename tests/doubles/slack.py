"""A protocol double of the Slack Web API: a local HTTP server that the real
``slack_sdk.WebClient(base_url=double.url + "/api/")`` talks to.

It speaks the wire format of https://docs.slack.dev/reference/methods: ``POST /api/<method>``
with a form-encoded or JSON body, the token in ``Authorization: Bearer …`` (or a ``token``
parameter), and every reply HTTP 200 JSON ``{"ok": true, …}`` or ``{"ok": false, "error": …}``
(rate limiting: HTTP 429 with ``Retry-After``, as Slack does). It also accepts the POSTs an app
makes to a slash command's or an interaction's ``response_url`` (``/response_url/<id>``).

Usage::

    double = SlackDouble().start()
    double.add_token("xoxb-1-2-abc", team_id="T0JAMONO1", bot_user_id="U0JAMONOBOT")
    client = WebClient(token="xoxb-1-2-abc", base_url=double.url + "/api/")
    posted = client.chat_postMessage(channel="C1", text="hi")
    double.thread("C1", posted["ts"])   # [{"text": "hi", ...}]
    double.stop()
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply

DEFAULT_TEAM_ID = "T0JAMONO01"
DEFAULT_TEAM_NAME = "Jamono Test Workspace"
DEFAULT_BOT_USER_ID = "U0JAMONOBOT"
DEFAULT_APP_ID = "A0JAMONO"
DEFAULT_CLIENT_ID = "1111111111.2222222222"
DEFAULT_CLIENT_SECRET = "d0ub1e5ecre7c11e11t5ecre7000000"
DEFAULT_INSTALLER_USER_ID = "U0INSTALLER"
DEFAULT_SCOPE = (
    "app_mentions:read,channels:history,groups:history,im:history,mpim:history,chat:write,"
    "commands,im:write"
)

# Parameters Slack accepts as JSON text inside a form body (slack_sdk serialises them so).
_JSON_FORM_PARAMS = ("blocks", "attachments", "metadata")


@dataclass
class _BotToken:
    token: str
    team_id: str
    bot_user_id: str
    bot_id: str
    team_name: str
    app_id: str


@dataclass
class _ScriptedFailure:
    error: str
    status: int
    retry_after: int | None


class SlackDouble(ProtocolDouble):
    """The Slack Web API, in memory, on ``127.0.0.1:<free port>``. Thread-safe.

    Test-facing API: ``add_token``, ``add_oauth_code``, ``add_message``, ``fail_next``,
    ``calls``, ``thread``, ``messages``, ``ephemerals``, ``response_url``,
    ``response_url_posts``, ``reset``; from ``ProtocolDouble``: ``start``/``stop`` (or a
    context manager), ``url``, ``requests``, ``wait_for_requests``, and HTTP-level faults
    (``close_next``, ``delay_next``, ``reply_next``, ``fail_next(<count>, status=…)``).
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        # Re-entrant: conversations.replies reads the thread while answering.
        self._state_lock = threading.RLock()
        self._clear()

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=…)`` / ``settings.SLACK_API_URL`` should be."""
        return f"{self.url}/api/"

    # --- scripting -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget tokens, codes, messages, recorded calls and scripted failures (both the
        Slack-level ones and the base class's HTTP-level ones)."""
        super().reset()
        with self._state_lock:
            self._clear()

    def _clear(self) -> None:
        self._tokens: dict[str, _BotToken] = {}
        self._oauth_codes: dict[str, dict[str, Any]] = {}
        self._oauth_redirect_uris: dict[str, str | None] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._response_url_posts: list[tuple[str, Any]] = []
        self._failures: dict[str, deque[_ScriptedFailure]] = defaultdict(deque)
        self._ts_counter = itertools.count(1)

    def add_token(
        self,
        token: str,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        bot_id: str | None = None,
        team_name: str = DEFAULT_TEAM_NAME,
        app_id: str = DEFAULT_APP_ID,
    ) -> None:
        """Make ``token`` a valid bot token of ``team_id`` (any other token: ``invalid_auth``)."""
        with self._state_lock:
            self._tokens[token] = _BotToken(
                token=token,
                team_id=team_id,
                bot_user_id=bot_user_id,
                bot_id=bot_id or "B" + bot_user_id[1:],
                team_name=team_name,
                app_id=app_id,
            )

    def revoke_token(self, token: str) -> None:
        """The token stops working (an uninstall): later calls get ``invalid_auth``."""
        with self._state_lock:
            self._tokens.pop(token, None)

    def add_oauth_code(
        self,
        code: str,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = DEFAULT_TEAM_NAME,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        app_id: str = DEFAULT_APP_ID,
        scope: str = DEFAULT_SCOPE,
        access_token: str | None = None,
        enterprise: dict[str, str] | None = None,
        authed_user_id: str = DEFAULT_INSTALLER_USER_ID,
        redirect_uri: str | None = None,
        response: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make ``code`` exchangeable once by ``oauth.v2.access``; returns the reply it gets.

        The reply is shaped like the documented bot install; ``response`` replaces it whole
        (to test how a malformed reply is handled). The bot token becomes valid for the other
        methods. ``redirect_uri``: when given, the exchange must send the same one
        (``bad_redirect_uri`` otherwise), as with Slack when the authorize URL carried one.
        """
        if response is None:
            with self._state_lock:
                serial = next(self._ts_counter)
            access_token = (
                access_token or f"xoxb-{17000 + serial}-{27000 + serial}-{uuid.uuid4().hex[:24]}"
            )
            response = {
                "ok": True,
                "access_token": access_token,
                "token_type": "bot",
                "scope": scope,
                "bot_user_id": bot_user_id,
                "app_id": app_id,
                "team": {"name": team_name, "id": team_id},
                "enterprise": enterprise,
                "authed_user": {"id": authed_user_id},
                "is_enterprise_install": False,
            }
            self.add_token(
                access_token,
                team_id=team_id,
                bot_user_id=bot_user_id,
                team_name=team_name,
                app_id=app_id,
            )
        with self._state_lock:
            self._oauth_codes[code] = response
            self._oauth_redirect_uris[code] = redirect_uri
        return copy.deepcopy(response)

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0HUMAN001",
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> str:
        """Put a message a person wrote into a channel (e.g. the root of a thread); its ts."""
        with self._state_lock:
            ts = ts or self._next_ts()
            message = {"type": "message", "user": user, "text": text, "ts": ts}
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._messages[(channel, ts)] = message
            return ts

    def fail_next(  # type: ignore[override]
        self,
        method: str | int = 1,
        error: str = "ratelimited",
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
        **http_fault: Any,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``error``.

        ``status`` defaults to 429 for ``ratelimited`` (with ``Retry-After: retry_after or 1``)
        and to 200 otherwise, as Slack replies. ``method`` may be ``"response_url"``.
        An int first argument is the base class's HTTP-level form (``fail_next(2, status=500)``:
        the next 2 requests, whatever the method, get a bare HTTP error).
        """
        if isinstance(method, int):
            super().fail_next(
                method, status=status or HTTPStatus.INTERNAL_SERVER_ERROR, **http_fault
            )
            return
        if status is None:
            status = HTTPStatus.TOO_MANY_REQUESTS if error == "ratelimited" else HTTPStatus.OK
        if retry_after is None and status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = 1
        with self._state_lock:
            for _ in range(times):
                self._failures[method].append(_ScriptedFailure(error, int(status), retry_after))

    # --- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Recorded calls of ``method`` (all methods: ``None``), oldest first.

        Each is the request parameters (form and JSON merged, JSON-in-form fields like
        ``blocks`` decoded) plus ``token`` (from the Authorization header or the form) and
        ``_method``. Failed and scripted-failure calls are recorded too.
        """
        with self._state_lock:
            return [
                copy.deepcopy(params)
                for called, params in self._calls
                if method is None or called == method
            ]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The thread's messages as they are now (updates applied), root first."""
        with self._state_lock:
            found = [
                message
                for (message_channel, ts), message in self._messages.items()
                if message_channel == channel
                and (ts == thread_ts or message.get("thread_ts") == thread_ts)
            ]
            return copy.deepcopy(sorted(found, key=lambda message: _ts_key(message["ts"])))

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message now in ``channel`` (all channels: ``None``), oldest first; each has
        ``channel``."""
        with self._state_lock:
            found = [
                {**message, "channel": message_channel}
                for (message_channel, _), message in self._messages.items()
                if channel is None or message_channel == channel
            ]
            return copy.deepcopy(sorted(found, key=lambda message: _ts_key(message["ts"])))

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages posted (``chat.postEphemeral``), oldest first."""
        with self._state_lock:
            return copy.deepcopy(
                [e for e in self._ephemerals if channel is None or e["channel"] == channel]
            )

    def response_url(self, response_id: str = "1") -> str:
        """A ``response_url`` on this double, to put into a slash command or interaction."""
        return f"{self.url}/response_url/{response_id}"

    def response_url_posts(self, response_id: str | None = None) -> list[Any]:
        """Bodies (decoded JSON) posted to ``response_url(response_id)`` (all: ``None``)."""
        with self._state_lock:
            return copy.deepcopy(
                [
                    body
                    for posted_id, body in self._response_url_posts
                    if response_id is None or posted_id == response_id
                ]
            )

    # --- the API -------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path.startswith("/api/"):
            params: dict[str, Any] = {name: values[-1] for name, values in request.query.items()}
            params.update(_request_params(request))
            status, body, headers = self.handle_api(
                request.path[len("/api/") :], params, request.headers.get("authorization")
            )
            return Reply.json(body, status=status, headers=headers)
        if request.path.startswith("/response_url/"):
            posted: Any = request.json
            if posted is None and request.body:
                posted = request.form or request.body.decode("utf-8", "replace")
            status, text = self.handle_response_url(request.path[len("/response_url/") :], posted)
            return Reply(status=status, body=text.encode(), headers={"Content-Type": "text/html"})
        return Reply.json({"ok": False, "error": "unknown_method"}, status=HTTPStatus.NOT_FOUND)

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _scripted_failure(self, method: str) -> _ScriptedFailure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    def handle_api(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One Web API call → (HTTP status, JSON body, extra headers)."""
        with self._state_lock:
            form_token = params.pop("token", None)
            token = _bearer_token(authorization) or form_token
            self._calls.append((method, {**params, "token": token, "_method": method}))

            failure = self._scripted_failure(method)
            if failure is not None:
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                return failure.status, {"ok": False, "error": failure.error}, headers

            if method == "oauth.v2.access":
                return HTTPStatus.OK, self._oauth_v2_access(params, authorization), {}
            handler = _METHODS.get(method)
            if handler is None:
                return HTTPStatus.OK, {"ok": False, "error": "unknown_method"}, {}
            if not token:
                return HTTPStatus.OK, {"ok": False, "error": "not_authed"}, {}
            bot = self._tokens.get(token)
            if bot is None:
                return HTTPStatus.OK, {"ok": False, "error": "invalid_auth"}, {}
            return HTTPStatus.OK, handler(self, bot, params), {}

    def handle_response_url(self, response_id: str, body: Any) -> tuple[int, str]:
        with self._state_lock:
            self._response_url_posts.append((response_id, body))
            failure = self._scripted_failure("response_url")
            if failure is not None:
                return failure.status, failure.error
            return HTTPStatus.OK, "ok"

    def _auth_test(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{bot.team_id.lower()}.slack.com/",
            "team": bot.team_name,
            "user": "jamono",
            "team_id": bot.team_id,
            "user_id": bot.bot_user_id,
            "bot_id": bot.bot_id,
            "app_id": bot.app_id,
            "is_enterprise_install": False,
        }

    def _bot_message(self, bot: _BotToken, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": bot.bot_user_id,
            "bot_id": bot.bot_id,
            "app_id": bot.app_id,
            "team": bot.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for field in ("blocks", "attachments", "metadata", "thread_ts"):
            if params.get(field):
                message[field] = params[field]
        return message

    def _chat_post_message(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = self._bot_message(bot, params, ts)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_update(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = self._messages.get((channel, ts or ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("user") != bot.bot_user_id:
            return {"ok": False, "error": "cant_update_message"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        message["text"] = params.get("text") or ""
        for field in ("blocks", "attachments", "metadata"):
            if field in params:
                message[field] = params[field]
        message["edited"] = {"user": bot.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = params.get("channel"), params.get("user")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not user:
            return {"ok": False, "error": "user_not_in_channel"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        self._ephemerals.append({**self._bot_message(bot, params, ts), "channel": channel})
        self._ephemerals[-1]["recipient"] = user
        return {"ok": True, "message_ts": ts}

    def _conversations_replies(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if (channel, ts or "") not in self._messages:
            return {"ok": False, "error": "thread_not_found"}
        return {
            "ok": True,
            "messages": self.thread(channel, ts),
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _oauth_v2_access(self, params: dict[str, Any], authorization: str | None) -> dict:
        # Slack prefers HTTP Basic client authentication and also takes form fields.
        client_id, client_secret = _basic_credentials(authorization)
        client_id = client_id or params.get("client_id")
        client_secret = client_secret or params.get("client_secret")
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        code = params.get("code") or ""
        if code not in self._oauth_codes:
            return {"ok": False, "error": "invalid_code"}
        expected_redirect_uri = self._oauth_redirect_uris.get(code)
        if (
            expected_redirect_uri is not None
            and params.get("redirect_uri") != expected_redirect_uri
        ):
            return {"ok": False, "error": "bad_redirect_uri"}
        # A code is exchanged once; Slack answers invalid_code to a replay.
        self._oauth_redirect_uris.pop(code, None)
        return copy.deepcopy(self._oauth_codes.pop(code))


# Methods called with a bot token; oauth.v2.access authenticates the app instead.
_METHODS = {
    "auth.test": SlackDouble._auth_test,
    "chat.postMessage": SlackDouble._chat_post_message,
    "chat.update": SlackDouble._chat_update,
    "chat.postEphemeral": SlackDouble._chat_post_ephemeral,
    "conversations.replies": SlackDouble._conversations_replies,
}


def _request_params(request: RecordedRequest) -> dict[str, Any]:
    """Form or JSON body parameters; JSON-in-form fields (``blocks``…) decoded."""
    if isinstance(request.json, dict):
        return dict(request.json)
    params: dict[str, Any] = dict(request.form)
    for field in _JSON_FORM_PARAMS:
        if isinstance(params.get(field), str):
            # Undecodable JSON stays as sent, so the test can see what was wrong.
            with contextlib.suppress(ValueError):
                params[field] = json.loads(params[field])
    return params


def _bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization[len("Bearer ") :].strip() or None
    return None


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not (authorization and authorization.startswith("Basic ")):
        return None, None
    try:
        decoded = base64.b64decode(authorization[len("Basic ") :]).decode()
    except ValueError:
        return None, None
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
