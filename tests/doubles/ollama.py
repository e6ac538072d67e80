"""A protocol double of the Ollama REST API (the shapes of Ollama's docs/api.md).

    double = OllamaDouble(models=["llama3.1:8b", "nomic-embed-text"], embedding_dimension=8)
    double.reply_text = "The deploy is green."   # streamed as one chunk per word
    double.requests_to("/api/chat")[0].json["messages"]   # what the client sent

Endpoints: ``POST /api/chat`` (NDJSON stream, or one object with ``"stream": false``),
``POST /api/embed``, ``GET /api/tags``, ``GET /api/version``. A model not in ``models`` gets
404 ``{"error": "model '<name>' not found"}``. Faults are scripted with the ``ProtocolDouble``
methods (``fail_next``, ``close_next``, ``cut_stream_next``, ...), and a model slow to start
with ``delay_first_chunk_next(seconds)``: the next streamed chat sends its headers at once,
then waits that long before its first chunk.
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

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply

OLLAMA_VERSION = "0.12.6"
DEFAULT_MODELS = ("llama3.1:8b", "nomic-embed-text")


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
        self._first_chunk_delays: list[float] = []

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
        return Reply(status=404, body=b"404 page not found", headers={"Content-Type": "text/plain"})

    # --- endpoints -------------------------------------------------------------------------

    def _chat(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "")
        if model not in self.models:
            return self._model_not_found(model)
        messages = body.get("messages") or []
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        pieces = text_split_into_chunks(self.reply_text)
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
            "eval_count": len(pieces),
            "eval_duration": 4_032_296_000,
        }
        if body.get("stream", True) is False:
            final["message"]["content"] = self.reply_text
            return Reply.json(final)
        lines = [
            {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            for piece in pieces
        ] + [final]
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

    # --- shapes ----------------------------------------------------------------------------

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


def _after_a_pause(seconds: float, chunks: list[bytes]) -> Iterator[bytes]:
    """The chunks, the first one ``seconds`` late (iterated after the headers were sent)."""
    time.sleep(seconds)
    yield from chunks
