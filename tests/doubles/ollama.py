"""A protocol double of the Ollama REST API (the shapes of Ollama's docs/api.md).

    double = OllamaDouble(models=["llama3.1:8b", "nomic-embed-text"], embedding_dimension=8)
    double.reply_text = "The deploy is green."   # streamed as one chunk per word
    double.requests_to("/api/chat")[0].json["messages"]   # what the client sent

Endpoints: ``POST /api/chat`` (NDJSON stream, or one object with ``"stream": false``),
``POST /api/show``, ``POST /api/embed``, ``GET /api/tags``, ``GET /api/version``. A model not
in ``models`` gets 404 ``{"error": "model '<name>' not found"}``. Faults are scripted with the
``ProtocolDouble`` methods (``fail_next``, ``close_next``, ``cut_stream_next``, ...), and a
model slow to start with ``delay_first_chunk_next(seconds)``: the next streamed chat sends its
headers at once, then waits that long before its first chunk.

Tool calling:

    double.capabilities["gemma2:9b"] = ["completion"]    # what /api/show says of a model
    double.capabilities["old:1b"] = None                 # no "capabilities" (Ollama < 0.6)
    double.script_replies([
        [{"name": "jira_create_issue", "arguments": {"summary": "Payments API down"}}],
        "Opened PAY-1.",
    ])
    double.requests_to("/api/chat")[0].json["tools"]     # the tools that were offered

``capabilities`` starts with ``capabilities_for(name)`` for each model (a model added later
gets the same default): "tools" for the families in ``TOOL_FAMILIES``, "embedding" for those
in ``EMBEDDING_FAMILIES``, else "completion" only. A chat that offers ``tools`` to a model
without "tools" gets Ollama's 400 ``"registry.ollama.ai/library/<name> does not support
tools"``.

Each ``/api/chat`` request takes the next scripted reply (then ``reply_text`` once the script
is empty): a string is a text answer; a list of ``{"name", "arguments"}`` is native tool
calls (``message.tool_calls`` of ``{"function": {"name", "arguments"}}``, content "");
``{"raw_content": "..."}`` is that content verbatim, and with ``"tool_calls": [...]`` too,
that content and those calls in one reply. Streamed (``"stream"`` true or absent), the content
comes word by word, then all the calls in one part (``message.tool_calls``, content ""), then
the final ``done`` part, as Ollama streams a turn. A request with a
``format`` (a JSON schema, or "json") gets the reply as the JSON-mode envelope in
``message.content``: ``{"tool_calls": [{"name", "arguments"}], "answer": "..."}``. The double
follows the script, not the request: scripted calls come back even if no tools were offered.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply

OLLAMA_VERSION = "0.12.6"
DEFAULT_MODELS = ("llama3.1:8b", "nomic-embed-text")
# Families whose models Ollama's library lists with the "tools" capability, and families
# without it (their models get the JSON fallback). Keyed by the name before the ":" tag.
TOOL_FAMILIES = frozenset(
    {
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "qwen2.5",
        "qwen2.5-coder",
        "qwen3",
        "mistral",
        "mistral-nemo",
        "mistral-small",
        "command-r",
        "hermes3",
        "gpt-oss",
    }
)
EMBEDDING_FAMILIES = frozenset({"nomic-embed-text", "mxbai-embed-large", "all-minilm", "bge-m3"})

# A scripted reply: text, native tool calls, or verbatim content.
ScriptedReply = str | list[dict[str, Any]] | dict[str, Any]


def capabilities_for(model: str) -> list[str]:
    """What ``/api/show`` says a model can do, by family (the name before the tag)."""
    family = model.split(":")[0]
    if family in EMBEDDING_FAMILIES:
        return ["embedding"]
    if family in TOOL_FAMILIES:
        return ["completion", "tools"]
    return ["completion"]


def reply_as_envelope(reply: ScriptedReply) -> str:
    """A scripted reply as a model in JSON mode writes it (the envelope of
    ``apps.integrations.bases.llm.tool_reply_schema``)."""
    if isinstance(reply, dict):
        return str(reply.get("raw_content", ""))
    if isinstance(reply, str):
        return json.dumps({"tool_calls": [], "answer": reply})
    calls = [{"name": c["name"], "arguments": c.get("arguments", {})} for c in reply]
    return json.dumps({"tool_calls": calls, "answer": ""})


def text_split_into_chunks(text: str) -> list[str]:
    """Split as a model streams: one word with its trailing space per chunk."""
    return re.findall(r"\S+\s*|\s+", text)


def embedding_for(text: str, dimension: int) -> list[float]:
    """A deterministic unit vector for ``text`` (same text, same vector; no model needed)."""
    values: list[float] = []
    counter = 0
    while len(values) < dimension:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(v / 2**31 - 1.0 for v in struct.unpack(">8I", digest))
        counter += 1
    values = values[:dimension]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class OllamaDouble(ProtocolDouble):
    def __init__(
        self,
        *,
        models: list[str] | tuple[str, ...] = DEFAULT_MODELS,
        reply_text: str = "Hello from the Ollama double.",
        embedding_dimension: int = 768,
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.reply_text = reply_text
        self.embedding_dimension = embedding_dimension
        self.capabilities: dict[str, list[str] | None] = {
            name: capabilities_for(name) for name in self.models
        }
        self._first_chunk_delays: list[float] = []
        self._scripted_replies: list[ScriptedReply] = []

    def script_replies(self, replies: list[ScriptedReply]) -> None:
        """Queue assistant replies, taken one per ``/api/chat`` request (module docstring)."""
        with self._lock:
            self._scripted_replies.extend(replies)

    def _scripted_reply_take(self) -> ScriptedReply:
        with self._lock:
            return self._scripted_replies.pop(0) if self._scripted_replies else self.reply_text

    def delay_first_chunk_next(self, seconds: float, *, count: int = 1) -> None:
        """The next ``count`` streamed chats wait ``seconds`` between headers and first chunk."""
        with self._lock:
            self._first_chunk_delays.extend([seconds] * count)

    def _first_chunk_delay_take(self) -> float:
        with self._lock:
            return self._first_chunk_delays.pop(0) if self._first_chunk_delays else 0.0

    def handle(self, request: RecordedRequest) -> Reply:
        route = (request.method, request.path)
        if route == ("GET", "/api/version"):
            return Reply.json({"version": OLLAMA_VERSION})
        if route == ("GET", "/api/tags"):
            return Reply.json({"models": [self._model_listing(name) for name in self.models]})
        if route == ("POST", "/api/chat"):
            return self._chat(request)
        if route == ("POST", "/api/embed"):
            return self._embed(request)
        if route == ("POST", "/api/show"):
            return self._show(request)
        return Reply(status=404, body=b"404 page not found", headers={"Content-Type": "text/plain"})

    # --- endpoints -------------------------------------------------------------------------

    def _chat(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "")
        if model not in self.models:
            return self._model_not_found(model)
        if body.get("tools") and "tools" not in (self._capabilities_of(model) or ()):
            return Reply.json(
                {"error": f"registry.ollama.ai/library/{model} does not support tools"},
                status=400,
            )
        messages = body.get("messages") or []
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        reply = self._scripted_reply_take()
        tool_calls: list[dict] = []
        if body.get("format"):
            content = reply_as_envelope(reply)
        elif isinstance(reply, dict):
            content = str(reply.get("raw_content", ""))
            tool_calls = _wire_calls(reply.get("tool_calls") or [])
        elif isinstance(reply, list):
            content = ""
            tool_calls = _wire_calls(reply)
        else:
            content = reply
        pieces = text_split_into_chunks(content)
        final = {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done_reason": "stop",
            "done": True,
            "total_duration": 4_353_619_900,
            "load_duration": 63_915_300,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 246_847_000,
            "eval_count": len(pieces) + sum(len(json.dumps(c).split()) for c in tool_calls),
            "eval_duration": 4_032_296_000,
        }
        if body.get("stream", True) is False:
            final["message"]["content"] = content
            if tool_calls:
                final["message"]["tool_calls"] = tool_calls
            return Reply.json(final)
        lines = [
            {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            for piece in pieces
        ]
        if tool_calls:
            # Ollama streams the calls of a turn together, in one chunk.
            lines.append(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                    "done": False,
                }
            )
        lines.append(final)
        encoded = [json.dumps(line).encode() + b"\n" for line in lines]
        delay_s = self._first_chunk_delay_take()
        if delay_s:
            return Reply.stream(
                _after_a_pause(delay_s, encoded), content_type="application/x-ndjson"
            )
        return Reply.stream(encoded, content_type="application/x-ndjson")

    def _embed(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "")
        if model not in self.models:
            return self._model_not_found(model)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        return Reply.json(
            {
                "model": model,
                "embeddings": [embedding_for(t, self.embedding_dimension) for t in texts],
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            }
        )

    def _show(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        # "name" is the field's old spelling, still accepted by Ollama.
        model = body.get("model") or body.get("name") or ""
        if model not in self.models:
            return self._model_not_found(model)
        family = model.split(":")[0]
        shown: dict[str, Any] = {
            "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model}\n',
            "parameters": 'stop "<|eot_id|>"',
            "template": "{{ .Prompt }}",
            "details": self._model_listing(model)["details"],
            "model_info": {
                "general.architecture": family.rstrip("0123456789."),
                "general.parameter_count": 8_030_261_248,
                "general.quantization_version": 2,
            },
            "modified_at": "2025-05-04T17:37:44.706015396-07:00",
        }
        capabilities = self._capabilities_of(model)
        if capabilities is not None:
            shown["capabilities"] = list(capabilities)
        return Reply.json(shown)

    # --- shapes ----------------------------------------------------------------------------

    def _capabilities_of(self, model: str) -> list[str] | None:
        with self._lock:
            if model in self.capabilities:
                return self.capabilities[model]
        return capabilities_for(model)

    def _model_not_found(self, model: str) -> Reply:
        return Reply.json({"error": f"model '{model}' not found"}, status=404)

    def _model_listing(self, name: str) -> dict:
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-05-04T17:37:44.706015396-07:00",
            "size": 4_920_753_328,
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": name.split(":")[0],
                "families": [name.split(":")[0]],
                "parameter_size": "8.0B",
                "quantization_level": "Q4_K_M",
            },
        }


def _wire_calls(calls: list[dict[str, Any]]) -> list[dict]:
    return [{"function": {"name": c["name"], "arguments": c.get("arguments", {})}} for c in calls]


def _after_a_pause(seconds: float, chunks: list[bytes]) -> Iterator[bytes]:
    """The chunks, the first one ``seconds`` late (iterated after the headers were sent)."""
    time.sleep(seconds)
    yield from chunks
