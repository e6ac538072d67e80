"""A protocol double of the OpenAI API (the shapes of the official API reference).

    double = OpenAIDouble(api_key="sk-test", models=["gpt-4o-mini", "text-embedding-3-small"])
    double.url + "/v1"                         # the client's base_url
    double.reply_text = "Rollback done."       # streamed as one chunk per word

Endpoints under ``/v1``: ``POST /chat/completions`` (a ``chat.completion`` object, or with
``"stream": true`` server-sent ``chat.completion.chunk`` events ending ``data: [DONE]``, plus a
usage chunk when ``stream_options.include_usage``), ``POST /embeddings`` (``float`` or
``base64``), ``GET /models``. A wrong Bearer key gets 401 and an unknown model 404, with
OpenAI's error body. Faults are scripted with the ``ProtocolDouble`` methods.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply
from tests.doubles.ollama import embedding_for, text_split_into_chunks

DEFAULT_MODELS = ("gpt-4o-mini", "text-embedding-3-small")
SYSTEM_FINGERPRINT = "fp_double0001"


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
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in body.get("messages") or []
        )
        pieces = text_split_into_chunks(self.reply_text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
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
                                "content": self.reply_text,
                                "refusal": None,
                                "annotations": [],
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
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
        events.append(chunk([choice({}, "stop")]))
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
