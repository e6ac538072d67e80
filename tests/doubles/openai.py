"""A protocol double of the OpenAI API (the shapes of the official API reference).

    double = OpenAIDouble(api_key="sk-test", models=["gpt-4o-mini", "text-embedding-3-small"])
    double.url + "/v1"                         # the client's base_url
    double.reply_text = "Rollback done."       # streamed as one chunk per word

Endpoints under ``/v1``: ``POST /chat/completions`` (a ``chat.completion`` object, or with
``"stream": true`` server-sent ``chat.completion.chunk`` events ending ``data: [DONE]``, plus a
usage chunk when ``stream_options.include_usage``), ``POST /embeddings`` (``float`` or
``base64``), ``GET /models``. A wrong Bearer key gets 401 and an unknown model 404, with
OpenAI's error body. Faults are scripted with the ``ProtocolDouble`` methods.

Tool calling:

    double.script_replies([
        [{"name": "jira_create_issue", "arguments": {"summary": "Payments API down"}}],
        [{"name": "jira_create_issue", "raw_arguments": "{not json"}],
        "Opened PAY-1.",
    ])
    double.requests_to("/v1/chat/completions")[0].json["tools"]   # the tools offered

Each chat completion takes the next scripted reply (then ``reply_text`` once the script is
empty): a string is a text answer; a list of ``{"name", "arguments"}`` (or ``"raw_arguments"``:
that exact string) is ``choices[0].message.tool_calls`` with ids ``call_<n>``, ``type``
"function" and the arguments as a JSON string, content null and ``finish_reason``
"tool_calls"; ``{"raw_content": "..."}`` is that content verbatim, and with ``"tool_calls":
[...]`` too, that content and those calls in one reply. Streamed, as OpenAI streams them, the
content comes word by word, then each call in turn: a first delta with its ``index``, ``id``,
``type`` and ``function.name`` (arguments ""), then its arguments string split over deltas
of ``ARGUMENT_PIECE_CHARS`` characters (``{"index", "function": {"arguments"}}``) that the
client must join. A request with a ``response_format`` of type ``json_schema`` or
``json_object`` gets the reply as the JSON-mode envelope in ``message.content`` (see
``tests.doubles.ollama.reply_as_envelope``). As OpenAI does, a request whose ``tool``
messages do not answer the ``tool_calls`` of the assistant message before them gets 400.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import time
import uuid

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply
from tests.doubles.ollama import (
    ScriptedReply,
    embedding_for,
    reply_as_envelope,
    text_split_into_chunks,
)

DEFAULT_MODELS = ("gpt-4o-mini", "text-embedding-3-small")
# A streamed call's arguments come in pieces this long (a short JSON object takes 2 or more).
ARGUMENT_PIECE_CHARS = 10
SYSTEM_FINGERPRINT = "fp_double0001"


def _call_deltas(index: int, call: dict) -> list[dict]:
    """One call as OpenAI streams it: id, type and name first, then the arguments in pieces."""
    first = {
        "index": index,
        "id": call["id"],
        "type": "function",
        "function": {"name": call["function"]["name"], "arguments": ""},
    }
    arguments = call["function"]["arguments"]
    pieces = [
        arguments[start : start + ARGUMENT_PIECE_CHARS]
        for start in range(0, len(arguments), ARGUMENT_PIECE_CHARS)
    ]
    return [first, *({"index": index, "function": {"arguments": piece}} for piece in pieces)]


def openai_error(message: str, *, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIDouble(ProtocolDouble):
    def __init__(
        self,
        *,
        api_key: str = "sk-test-double",
        models: list[str] | tuple[str, ...] = DEFAULT_MODELS,
        reply_text: str = "Hello from the OpenAI double.",
        embedding_dimension: int = 1536,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models)
        self.reply_text = reply_text
        self.embedding_dimension = embedding_dimension
        self._scripted_replies: list[ScriptedReply] = []
        self._call_ids = itertools.count(1)

    def script_replies(self, replies: list[ScriptedReply]) -> None:
        """Queue assistant replies, taken one per chat completion (module docstring)."""
        with self._lock:
            self._scripted_replies.extend(replies)

    def _scripted_reply_take(self) -> ScriptedReply:
        with self._lock:
            return self._scripted_replies.pop(0) if self._scripted_replies else self.reply_text

    def handle(self, request: RecordedRequest) -> Reply:
        rejected = self._authentication_failure(request)
        if rejected is not None:
            return rejected
        route = (request.method, request.path)
        if route == ("GET", "/v1/models"):
            return Reply.json({"object": "list", "data": [self._model(m) for m in self.models]})
        if route == ("POST", "/v1/chat/completions"):
            return self._chat_completions(request)
        if route == ("POST", "/v1/embeddings"):
            return self._embeddings(request)
        return Reply.json(
            openai_error(
                f"Invalid URL ({request.method} {request.path})",
                type_="invalid_request_error",
                code=None,
            ),
            status=404,
        )

    # --- endpoints -------------------------------------------------------------------------

    def _chat_completions(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "")
        if model not in self.models:
            return self._model_not_found(model)
        refused = self._tool_messages_unanswered(body.get("messages") or [])
        if refused is not None:
            return refused
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in body.get("messages") or []
        )
        reply = self._scripted_reply_take()
        tool_calls: list[dict] = []
        response_format = body.get("response_format") or {}
        if response_format.get("type") in ("json_schema", "json_object"):
            content = reply_as_envelope(reply)
        elif isinstance(reply, dict):
            content = str(reply.get("raw_content", ""))
            tool_calls = [self._tool_call(call) for call in reply.get("tool_calls") or []]
        elif isinstance(reply, list):
            content = ""
            tool_calls = [self._tool_call(call) for call in reply]
        else:
            content = reply
        pieces = text_split_into_chunks(content)
        completion_tokens = len(pieces) + sum(
            len(c["function"]["arguments"].split()) + 1 for c in tool_calls
        )
        finish_reason = "tool_calls" if tool_calls else "stop"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not body.get("stream"):
            return Reply.json(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": (content or None) if tool_calls else content,
                                "refusal": None,
                                "annotations": [],
                                **({"tool_calls": tool_calls} if tool_calls else {}),
                            },
                            "logprobs": None,
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": usage,
                    "service_tier": "default",
                    "system_fingerprint": SYSTEM_FINGERPRINT,
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[dict], chunk_usage: dict | None = None) -> dict:
            event = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT,
                "choices": choices,
            }
            if include_usage:
                event["usage"] = chunk_usage
            return event

        def choice(delta: dict, finish_reason: str | None = None) -> dict:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

        events = [chunk([choice({"role": "assistant", "content": "", "refusal": None})])]
        events += [chunk([choice({"content": piece})]) for piece in pieces]
        for index, call in enumerate(tool_calls):
            events += [
                chunk([choice({"tool_calls": [delta]})]) for delta in _call_deltas(index, call)
            ]
        events.append(chunk([choice({}, finish_reason)]))
        if include_usage:
            events.append(chunk([], usage))
        lines = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
        lines.append(b"data: [DONE]\n\n")
        return Reply.stream(lines, content_type="text/event-stream; charset=utf-8")

    def _embeddings(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "")
        if model not in self.models:
            return self._model_not_found(model)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        dimension = body.get("dimensions") or self.embedding_dimension
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embedding_for(str(text), dimension)
            if as_base64:
                packed = struct.pack(f"<{len(vector)}f", *vector)
                encoded: list[float] | str = base64.b64encode(packed).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(str(t).split()) for t in texts)
        return Reply.json(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # --- shapes ----------------------------------------------------------------------------

    def _tool_call(self, call: dict) -> dict:
        arguments = call.get("raw_arguments")
        if arguments is None:
            arguments = json.dumps(call.get("arguments", {}))
        return {
            "id": f"call_{next(self._call_ids)}",
            "type": "function",
            "function": {"name": call["name"], "arguments": arguments},
        }

    def _tool_messages_unanswered(self, messages: list) -> Reply | None:
        """OpenAI's 400 for a ``tool`` message that answers no call of the assistant message
        before it, or an assistant's call left without an answer."""
        waiting: list[str] = []
        for position, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role == "tool":
                if message.get("tool_call_id") not in waiting:
                    return Reply.json(
                        openai_error(
                            "Invalid parameter: messages with role 'tool' must be a response"
                            " to a preceeding message with 'tool_calls'.",
                            type_="invalid_request_error",
                            code=None,
                            param=f"messages.[{position}].role",
                        ),
                        status=400,
                    )
                waiting.remove(message["tool_call_id"])
                continue
            if waiting:
                return self._calls_unanswered(waiting, position - 1)
            if role == "assistant":
                waiting = [c.get("id") for c in message.get("tool_calls") or []]
        if waiting:
            return self._calls_unanswered(waiting, len(messages) - 1)
        return None

    def _calls_unanswered(self, call_ids: list[str], position: int) -> Reply:
        return Reply.json(
            openai_error(
                "An assistant message with 'tool_calls' must be followed by tool messages"
                " responding to each 'tool_call_id'. The following tool_call_ids did not have"
                f" response messages: {', '.join(call_ids)}",
                type_="invalid_request_error",
                code=None,
                param=f"messages.[{position}].role",
            ),
            status=400,
        )

    def _authentication_failure(self, request: RecordedRequest) -> Reply | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return Reply.json(
                openai_error(
                    "You didn't provide an API key. You need to provide your API key in an"
                    " Authorization header using Bearer auth (i.e. Authorization: Bearer"
                    " YOUR_KEY).",
                    type_="invalid_request_error",
                    code=None,
                ),
                status=401,
            )
        given = header.removeprefix("Bearer ")
        if given == self.api_key:
            return None
        masked = f"{given[:3]}*****{given[-4:]}" if len(given) > 8 else "*****"
        return Reply.json(
            openai_error(
                f"Incorrect API key provided: {masked}. You can find your API key at"
                " https://platform.openai.com/account/api-keys.",
                type_="invalid_request_error",
                code="invalid_api_key",
            ),
            status=401,
        )

    def _model_not_found(self, model: str) -> Reply:
        return Reply.json(
            openai_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                type_="invalid_request_error",
                code="model_not_found",
            ),
            status=404,
        )

    def _model(self, model_id: str) -> dict:
        return {"id": model_id, "object": "model", "created": 1_686_935_002, "owned_by": "openai"}
