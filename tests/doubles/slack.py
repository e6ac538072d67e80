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

Methods: ``auth.test``, ``oauth.v2.access``, ``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``, ``conversations.replies``, ``chat.startStream``/``appendStream``/
``stopStream`` (streamed replies), ``assistant.threads.setStatus``, ``users.info``, and the
``files_upload_v2`` flow (``files.getUploadURLExternal``, a POST of the bytes to the returned
``upload_url`` on this double, ``files.completeUploadExternal``). Anything else: ``unknown_method``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import html
import itertools
import json
import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

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

# Parameters Slack accepts as JSON text inside a form body (slack_sdk serialises them so;
# files.completeUploadExternal always sends ``files`` that way).
_JSON_FORM_PARAMS = ("blocks", "attachments", "metadata", "chunks", "files", "loading_messages")

# What the stream methods answer where the workspace or token cannot stream (see
# ``SlackDouble.streaming_supported``): a documented error of chat.startStream/appendStream/
# stopStream. Slack documents no "streaming disabled" code; this is the one it gives a token
# that may not call the method.
STREAMING_REFUSED_ERROR = "not_allowed_token_type"


@dataclass
class _BotToken:
    token: str
    team_id: str
    bot_user_id: str
    bot_id: str
    team_name: str
    app_id: str
    streaming: bool = True


@dataclass
class _Stream:
    """What Slack keeps about a streamed message besides the message itself."""

    streaming: bool
    chunks: list[dict[str, Any]]
    recipient_user_id: str | None
    recipient_team_id: str | None


@dataclass
class _ScriptedFailure:
    error: str
    status: int
    retry_after: int | None


class SlackDouble(ProtocolDouble):
    """The Slack Web API, in memory, on ``127.0.0.1:<free port>``. Thread-safe.

    Test-facing API:

    - setup: ``add_token`` (``streaming=False``: that token cannot stream), ``revoke_token``,
      ``add_oauth_code``, ``add_message``, ``add_user``; switches ``streaming_supported``
      (``False``: the workspace refuses the stream methods with ``STREAMING_REFUSED_ERROR``)
      and ``status_in_channels`` (``True``: ``assistant.threads.setStatus`` works outside DMs);
      ``end_stream`` (Slack ended a stream: it timed out or the user pressed stop);
    - faults: ``fail_next(method, error, retry_after=…)`` (``method`` may also be
      ``"response_url"`` or ``"upload_url"``);
    - inspection: ``calls``, ``thread``, ``messages``, ``ephemerals``, ``stream``,
      ``statuses``, ``files``, ``response_url``, ``response_url_posts``; ``reset``;
    - from ``ProtocolDouble``: ``start``/``stop`` (or a context manager), ``url``, ``requests``,
      ``wait_for_requests``, and HTTP-level faults (``close_next``, ``delay_next``,
      ``reply_next``, ``fail_next(<count>, status=…)``).

    Channel ids starting with ``D`` are DMs, as Slack's are: streaming there needs no
    recipient, and ``assistant.threads.setStatus`` is accepted there only (by default).
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
        """Forget tokens, codes, messages, streams, statuses, users, files, recorded calls and
        scripted failures (both the Slack-level ones and the base class's HTTP-level ones);
        ``streaming_supported`` and ``status_in_channels`` go back to their defaults."""
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
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._statuses: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._users: dict[str, dict[str, Any]] = {}
        self._user_groups: dict[str, list[str]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._shared_files: list[dict[str, Any]] = []
        self.streaming_supported = True
        self.status_in_channels = False
        self._authorize_as: dict[str, str] | None = None

    def add_token(
        self,
        token: str,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        bot_id: str | None = None,
        team_name: str = DEFAULT_TEAM_NAME,
        app_id: str = DEFAULT_APP_ID,
        streaming: bool = True,
    ) -> None:
        """Make ``token`` a valid bot token of ``team_id`` (any other token: ``invalid_auth``).

        ``streaming=False``: the stream methods refuse this token (a workspace without the
        feature), as ``streaming_supported = False`` does for every token.
        """
        with self._state_lock:
            self._tokens[token] = _BotToken(
                token=token,
                team_id=team_id,
                bot_user_id=bot_user_id,
                bot_id=bot_id or "B" + bot_user_id[1:],
                team_name=team_name,
                app_id=app_id,
                streaming=streaming,
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

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None = None,
        tz: str = "Europe/Paris",
        real_name: str | None = None,
        display_name: str | None = None,
        team_id: str = DEFAULT_TEAM_ID,
    ) -> dict[str, Any]:
        """Make ``users.info`` know ``user_id``; returns the user object it answers.

        ``tz_offset`` is the zone's offset now, in seconds, as Slack computes it (so it follows
        daylight saving time); ``tz_label`` is left out.
        """
        real_name = real_name if real_name is not None else user_id.lower()
        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": (email or user_id).split("@")[0].lower(),
            "deleted": False,
            "real_name": real_name,
            "tz": tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": False,
            "profile": {
                "email": email,
                "real_name": real_name,
                "display_name": display_name if display_name is not None else real_name,
            },
        }
        with self._state_lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def add_user_group(self, group_id: str, users: list[str]) -> None:
        """Make ``usergroups.users.list`` answer ``users`` for the user group ``group_id``."""
        with self._state_lock:
            self._user_groups[group_id] = list(users)

    def end_stream(self, channel: str, ts: str) -> None:
        """Slack ends the stream by itself (its lifetime ran out, the user pressed stop): later
        appends and stops get ``message_not_in_streaming_state``."""
        with self._state_lock:
            self._streams[(channel, ts)].streaming = False

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
        and to 200 otherwise, as Slack replies. ``method`` may be ``"response_url"``, or
        ``"upload_url"`` (the POST of a file's bytes: it gets ``status`` and ``error`` as text).
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

    def stream(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The streamed message ``ts``'s stream state (``None`` if it was not streamed):
        ``streaming`` (``False`` once stopped or ended), ``chunks`` (every chunk received, in
        order; a ``markdown_text`` argument counts as a ``markdown_text`` chunk),
        ``recipient_user_id``, ``recipient_team_id``. The text so far is the message's ``text``.
        """
        with self._state_lock:
            found = self._streams.get((channel, ts))
            if found is None:
                return None
            return copy.deepcopy(
                {
                    "streaming": found.streaming,
                    "chunks": found.chunks,
                    "recipient_user_id": found.recipient_user_id,
                    "recipient_team_id": found.recipient_team_id,
                }
            )

    def statuses(self, channel: str, thread_ts: str) -> list[str]:
        """Every status ``assistant.threads.setStatus`` set on the thread, oldest first
        (``""``: the status was cleared)."""
        with self._state_lock:
            return list(self._statuses.get((channel, thread_ts), []))

    def files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared by ``files.completeUploadExternal`` (to ``channel``; all: ``None``),
        oldest first: ``id``, ``title``, ``filename``, ``content`` (the bytes posted to the
        upload URL), ``channel`` (``None``: not shared, the file stays private), ``thread_ts``,
        ``initial_comment``."""
        with self._state_lock:
            return copy.deepcopy(
                [f for f in self._shared_files if channel is None or f["channel"] == channel]
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
        if request.path == AUTHORIZE_PATH:
            return self.handle_authorize(request.query)
        if request.path.startswith(_UPLOAD_PATH):
            status, text = self.handle_upload(request.path[len(_UPLOAD_PATH) :], request.body)
            return Reply(status=status, body=text.encode(), headers={"Content-Type": "text/plain"})
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

    def authorize_as(
        self, *, team_id: str, team_name: str, bot_user_id: str = DEFAULT_BOT_USER_ID
    ) -> None:
        """The workspace (and its bot) that a person approving on the consent page
        (``authorize_url``) installs the app into."""
        with self._state_lock:
            self._authorize_as = {
                "team_id": team_id,
                "team_name": team_name,
                "bot_user_id": bot_user_id,
            }

    @property
    def authorize_url(self) -> str:
        """What ``settings.SLACK_OAUTH_AUTHORIZE_URL`` should be."""
        return f"{self.url}{AUTHORIZE_PATH}"

    def handle_authorize(self, query: dict[str, list[str]]) -> Reply:
        """Slack's consent page (``/oauth/v2/authorize``): checks the app's client id and the
        requested scopes, then offers "Allow" (back to ``redirect_uri`` with a fresh code and
        the ``state``, exchangeable once by ``oauth.v2.access`` with the same redirect URI)
        and "Cancel" (back with ``error=access_denied``)."""
        params = {name: values[-1] for name, values in query.items()}
        redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
        if params.get("client_id") != self.client_id:
            return _html_page("Invalid client_id parameter", status=HTTPStatus.BAD_REQUEST)
        if not params.get("scope") or not redirect_uri.startswith(("http://", "https://")):
            return _html_page("Invalid arguments", status=HTTPStatus.BAD_REQUEST)
        with self._state_lock:
            target = dict(self._authorize_as or {})
        if not target:
            return _html_page("No workspace to install into", status=HTTPStatus.BAD_REQUEST)
        code = f"code-{uuid.uuid4().hex}"
        self.add_oauth_code(code, redirect_uri=redirect_uri, **target)
        join = "&" if "?" in redirect_uri else "?"
        allow = f"{redirect_uri}{join}{urlencode({'code': code, 'state': state})}"
        cancel = f"{redirect_uri}{join}{urlencode({'error': 'access_denied', 'state': state})}"
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split(","))
        body = (
            f"<h1>Jamono is requesting permission to access the "
            f"{html.escape(target['team_name'])} Slack workspace</h1><ul>{scopes}</ul>"
            f'<a id="allow" href="{html.escape(allow)}">Allow</a> '
            f'<a id="cancel" href="{html.escape(cancel)}">Cancel</a>'
        )
        return _html_page(body)

    def handle_response_url(self, response_id: str, body: Any) -> tuple[int, str]:
        with self._state_lock:
            self._response_url_posts.append((response_id, body))
            failure = self._scripted_failure("response_url")
            if failure is not None:
                return failure.status, failure.error
            return HTTPStatus.OK, "ok"

    def handle_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to the ``upload_url`` that files.getUploadURLExternal
        gave; Slack's file server answers ``OK - <length>`` as plain text."""
        with self._state_lock:
            failure = self._scripted_failure("upload_url")
            if failure is not None:
                return failure.status, failure.error
            upload = self._uploads.get(file_id)
            if upload is None:
                return HTTPStatus.NOT_FOUND, "Not Found"
            upload["content"] = body
            return HTTPStatus.OK, f"OK - {len(body)}"

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

    # --- streamed replies (chat.startStream / appendStream / stopStream) --------------------

    def _streaming_refused(self, bot: _BotToken) -> dict[str, Any] | None:
        if self.streaming_supported and bot.streaming:
            return None
        return {"ok": False, "error": STREAMING_REFUSED_ERROR}

    def _chat_start_stream(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._streaming_refused(bot)
        if refused is not None:
            return refused
        channel, thread_ts = params.get("channel"), params.get("thread_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not thread_ts:
            # Documented as required (a stream answers a user's message), with no error of
            # its own: Slack's argument validation answers this.
            return _invalid_arguments("missing required field: thread_ts")
        if not _is_dm(channel):
            # Outside a DM Slack must know whom the stream is for.
            if not params.get("recipient_team_id"):
                return {"ok": False, "error": "missing_recipient_team_id"}
            if not params.get("recipient_user_id"):
                return {"ok": False, "error": "missing_recipient_user_id"}
        chunks = _stream_chunks(params)
        if chunks is None:
            return _invalid_arguments("chunks must be an array of objects")
        ts = self._next_ts()
        message = self._bot_message(bot, params, ts)
        message["text"] = _markdown_of(chunks)
        self._messages[(channel, ts)] = message
        self._streams[(channel, ts)] = _Stream(
            streaming=True,
            chunks=chunks,
            recipient_user_id=params.get("recipient_user_id"),
            recipient_team_id=params.get("recipient_team_id"),
        )
        return {"ok": True, "channel": channel, "ts": ts}

    def _streamed_message(
        self, bot: _BotToken, params: dict[str, Any]
    ) -> tuple[dict[str, Any], _Stream, list[dict[str, Any]]] | dict[str, Any]:
        """The message an append or a stop writes to, its stream and the new chunks; or the
        error Slack answers."""
        refused = self._streaming_refused(bot)
        if refused is not None:
            return refused
        channel, ts = params.get("channel"), params.get("ts") or ""
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = self._messages.get((channel, ts))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("user") != bot.bot_user_id:
            return {"ok": False, "error": "cant_update_message"}
        stream = self._streams.get((channel, ts))
        if stream is None or not stream.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        chunks = _stream_chunks(params)
        if chunks is None:
            return _invalid_arguments("chunks must be an array of objects")
        return message, stream, chunks

    def _chat_append_stream(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        found = self._streamed_message(bot, params)
        if isinstance(found, dict):
            return found
        message, stream, chunks = found
        if not chunks:
            return {"ok": False, "error": "no_text"}
        stream.chunks.extend(chunks)
        message["text"] += _markdown_of(chunks)
        return {"ok": True, "channel": params["channel"], "ts": params["ts"]}

    def _chat_stop_stream(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        found = self._streamed_message(bot, params)
        if isinstance(found, dict):
            return found
        message, stream, chunks = found
        stream.chunks.extend(chunks)
        message["text"] += _markdown_of(chunks)
        # The blocks are rendered below the streamed text; the text stays the whole stream.
        for field in ("blocks", "metadata"):
            if params.get(field):
                message[field] = params[field]
        stream.streaming = False
        return {
            "ok": True,
            "channel": params["channel"],
            "ts": params["ts"],
            "message": copy.deepcopy(message),
        }

    # --- assistant threads, users, files ---------------------------------------------------

    def _assistant_threads_set_status(
        self, bot: _BotToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        channel, thread_ts = params.get("channel_id"), params.get("thread_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not thread_ts:
            return {"ok": False, "error": "invalid_thread_ts"}
        if "status" not in params:
            return _invalid_arguments("missing required field: status")
        if not (_is_dm(channel) or self.status_in_channels):
            return {"ok": False, "error": "channel_type_not_supported"}
        self._statuses[(channel, thread_ts)].append(params["status"] or "")
        return {"ok": True}

    def _usergroups_users_list(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        users = self._user_groups.get(params.get("usergroup") or "")
        if users is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(users)}

    def _users_info(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(params.get("user") or "")
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": copy.deepcopy(user)}

    def _chat_get_permalink(self, bot: _BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel") or "", params.get("message_ts") or ""
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        # People's own messages reach the double as events, not posts: any ts gets a link.
        message = self._messages.get((channel, ts)) or {}
        link = f"https://{bot.team_id.lower()}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _files_get_upload_url_external(
        self, bot: _BotToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        filename = params.get("filename")
        if not filename:
            return _invalid_arguments("missing required field: filename")
        try:
            length = int(params.get("length") or 0)
        except (TypeError, ValueError):
            return _invalid_arguments("length must be an integer")
        if length <= 0:
            return {"ok": False, "error": "missing_argument"}
        file_id = f"F0DOUBLE{next(self._ts_counter):04d}"
        self._uploads[file_id] = {"filename": filename, "content": None}
        return {"ok": True, "upload_url": f"{self.url}{_UPLOAD_PATH}{file_id}", "file_id": file_id}

    def _files_complete_upload_external(
        self, bot: _BotToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        files = params.get("files")
        if not (isinstance(files, list) and files and all(isinstance(f, dict) for f in files)):
            return _invalid_arguments("files must be a non-empty array of {id, title}")
        uploads = [self._uploads.get(str(f.get("id"))) for f in files]
        if any(upload is None or upload["content"] is None for upload in uploads):
            # Slack cannot find a file whose bytes never reached the upload URL either.
            return {"ok": False, "error": "file_not_found"}
        channel = params.get("channel_id") or (params.get("channels") or "").split(",")[0] or None
        shared = [
            {
                "id": f["id"],
                "title": f.get("title") or upload["filename"],
                "filename": upload["filename"],
                "content": upload["content"],
                "channel": channel,
                "thread_ts": params.get("thread_ts"),
                "initial_comment": params.get("initial_comment"),
            }
            for f, upload in zip(files, uploads, strict=True)
        ]
        self._shared_files.extend(shared)
        described = [
            {"id": f["id"], "title": f["title"], "name": f["filename"], "size": len(f["content"])}
            for f in shared
        ]
        if channel:
            self._post_file_share(bot, channel, params, described)
        return {"ok": True, "files": copy.deepcopy(described)}

    def _post_file_share(
        self,
        bot: _BotToken,
        channel: str,
        params: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> None:
        """Sharing files into a channel shows a message with them, the initial comment as its
        text, in the thread if one was given: what a reader of the thread sees."""
        ts = self._next_ts()
        message = self._bot_message(
            bot, {"text": params.get("initial_comment"), "thread_ts": params.get("thread_ts")}, ts
        )
        message["files"] = copy.deepcopy(files)
        message["upload"] = True
        self._messages[(channel, ts)] = message

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
    "chat.getPermalink": SlackDouble._chat_get_permalink,
    "conversations.replies": SlackDouble._conversations_replies,
    "chat.startStream": SlackDouble._chat_start_stream,
    "chat.appendStream": SlackDouble._chat_append_stream,
    "chat.stopStream": SlackDouble._chat_stop_stream,
    "assistant.threads.setStatus": SlackDouble._assistant_threads_set_status,
    "users.info": SlackDouble._users_info,
    "usergroups.users.list": SlackDouble._usergroups_users_list,
    "files.getUploadURLExternal": SlackDouble._files_get_upload_url_external,
    "files.completeUploadExternal": SlackDouble._files_complete_upload_external,
}

# Slack's consent page for "Add to Slack" (slack.com/oauth/v2/authorize).
AUTHORIZE_PATH = "/oauth/v2/authorize"


def _html_page(body: str, *, status: int = HTTPStatus.OK) -> Reply:
    page = f"<!doctype html><html><body>{body}</body></html>"
    return Reply(status=status, body=page.encode(), headers={"Content-Type": "text/html"})


# Where files.getUploadURLExternal sends the bytes (Slack's is files.slack.com/upload/v1/…).
_UPLOAD_PATH = "/upload/v1/"


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


def _is_dm(channel: str) -> bool:
    """Slack's DM (im) channel ids start with ``D``."""
    return channel.startswith("D")


def _invalid_arguments(detail: str) -> dict[str, Any]:
    """Slack's answer to arguments its schema refuses: the reason in response_metadata."""
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {detail}"]},
    }


def _stream_chunks(params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A stream call's chunks, its ``markdown_text`` first as a ``markdown_text`` chunk;
    ``None`` when ``chunks`` is not a list of objects."""
    chunks = params.get("chunks") or []
    if not (isinstance(chunks, list) and all(isinstance(chunk, dict) for chunk in chunks)):
        return None
    text = params.get("markdown_text")
    return ([{"type": "markdown_text", "text": text}] if text else []) + list(chunks)


def _markdown_of(chunks: list[dict[str, Any]]) -> str:
    """The text the chunks add to a streamed message (task and plan chunks add none)."""
    return "".join(
        str(chunk.get("text") or "") for chunk in chunks if chunk.get("type") == "markdown_text"
    )


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
