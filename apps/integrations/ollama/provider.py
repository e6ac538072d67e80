"""Ollama through its official client: ``/api/chat`` (with ``tools``, streamed or not, or a
``format`` JSON schema for a model without tool support), ``/api/show`` (a model's
``capabilities``), ``/api/embed``, ``/api/tags``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import ollama
from django.conf import settings

from apps.integrations.bases.llm import (
    ChatChunk,
    ChatMessage,
    LLMProvider,
    LLMResponseError,
    LLMToolsUnsupportedError,
    LLMUnavailableError,
    ProviderHealth,
    ToolCall,
    ToolSpec,
    ToolTurn,
)

# ``/api/show`` reads a manifest, it loads no model: a slow answer means a sick server.
SHOW_TIMEOUT_S = 10.0


class OllamaProvider(LLMProvider):
    name = "ollama"

    def __init__(self, *, host: str | None = None) -> None:
        super().__init__()
        self.host = host or settings.OLLAMA_HOST
        self._client = ollama.Client(host=self.host, timeout=self.timeout_s)
        # Streamed answers: a silence (before the first piece, or between two) longer than the
        # first-token timeout means a hung model, not a long answer.
        self._streaming_client = ollama.Client(
            host=self.host,
            timeout=httpx.Timeout(self.timeout_s, read=self.first_token_timeout_s),
        )

    def _chat_attempt(
        self,
        messages: list[ChatMessage],
        *,
        model: str,
        temperature: float,
        stream: bool,
        context_size: int | None = None,
    ) -> Iterator[ChatChunk]:
        with _vendor_errors_translated(model):
            client = self._streaming_client if stream else self._client
            response = client.chat(
                model=model,
                messages=_wire_messages(messages),
                options=_options(temperature, context_size),
                stream=stream,
            )
            if not stream:
                yield _chunk_of(response)
                return
            done = False
            # Closing the parts closes the HTTP stream when the caller stops early.
            with contextlib.closing(response):
                for part in response:
                    done = bool(part.done)
                    yield _chunk_of(part)
            if not done:
                raise LLMResponseError(f"ollama: the answer of {model} ended without 'done'")

    def _tools_attempt(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> ToolTurn:
        with _vendor_errors_translated(model):
            response = self._client.chat(
                model=model,
                messages=_wire_messages(messages),
                tools=[_wire_tool(tool) for tool in tools],
                options=_options(temperature, context_size),
                stream=False,
            )
            calls = _calls_of(response.message)
        return ToolTurn(
            text=response.message.content or "",
            tool_calls=calls,
            model=response.model or model,
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
            duration_ms=0,
        )

    def _tools_stream_attempt(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> Iterator[ChatChunk]:
        with _vendor_errors_translated(model):
            # A refusal of tools (400) is raised when the parts are first read: before any text.
            parts = self._streaming_client.chat(
                model=model,
                messages=_wire_messages(messages),
                tools=[_wire_tool(tool) for tool in tools],
                options=_options(temperature, context_size),
                stream=True,
            )
            done = False
            with contextlib.closing(parts):
                for part in parts:
                    done = bool(part.done)
                    # Calls may come in any part (Ollama sends a turn's calls together, in
                    # one part near the end), each complete.
                    yield replace(_chunk_of(part), tool_calls=_calls_of(part.message))
            if not done:
                raise LLMResponseError(f"ollama: the answer of {model} ended without 'done'")

    def _json_attempt(
        self,
        messages: list[ChatMessage],
        *,
        schema: dict,
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> ChatChunk:
        with _vendor_errors_translated(model):
            # ``format``: Ollama constrains the sampling to the schema's grammar.
            response = self._client.chat(
                model=model,
                messages=_wire_messages(messages),
                format=schema,
                options=_options(temperature, context_size),
                stream=False,
            )
            return _chunk_of(response)

    def _tool_support_check(self, model: str) -> bool:
        with (
            _vendor_errors_translated(model),
            ollama.Client(host=self.host, timeout=min(self.timeout_s, SHOW_TIMEOUT_S)) as client,
        ):
            shown = client.show(model)
        # No ``capabilities`` at all: a server older than Ollama 0.6, whose tool support
        # cannot be known.
        return "tools" in (shown.capabilities or ())

    def _tool_support_scope(self) -> str:
        return self.host

    def _embed_attempt(self, texts: list[str], *, model: str) -> list[list[float]]:
        with _vendor_errors_translated(model):
            response = self._client.embed(model=model, input=texts)
            return [list(vector) for vector in response.embeddings]

    def _health_check(self, *, timeout_s: float) -> ProviderHealth:
        with (
            _vendor_errors_translated(model=None),
            ollama.Client(host=self.host, timeout=timeout_s) as client,
        ):
            listed = client.list()
        models = [m.model for m in listed.models if m.model]
        return ProviderHealth(
            reachable=True, detail=f"ollama at {self.host}: {len(models)} models", models=models
        )


def _options(temperature: float, context_size: int | None) -> dict[str, Any]:
    """A request's ``options``. ``num_ctx`` only when the caller sets it: Ollama's default
    (4096) silently drops the start of a longer prompt, and a bigger context costs memory, so
    the caller, who sizes the prompt, says how big; Ollama reloads the model when it changes."""
    options: dict[str, Any] = {"temperature": temperature}
    if context_size is not None:
        options["num_ctx"] = context_size
    return options


def _wire_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as ``/api/chat`` takes them: a plain message is role and content only; an
    assistant turn replays its ``tool_calls``, a tool result names its tool (Ollama matches
    results to calls by name and order; it has no call ids)."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            item["tool_calls"] = [
                {"function": {"name": call.name, "arguments": _arguments_object(call.arguments)}}
                for call in message.tool_calls
            ]
        if message.role == "tool" and message.tool_name:
            item["tool_name"] = message.tool_name
        wire.append(item)
    return wire


def _arguments_object(arguments: Any) -> dict[str, Any]:
    """Ollama takes a call's arguments as an object only; anything else a model once sent
    (then refused by the caller) is replayed as it was, wrapped."""
    return arguments if isinstance(arguments, dict) else {"_unparsed": arguments}


def _wire_tool(tool: ToolSpec) -> dict[str, Any]:
    # The client re-validates this into its ``Tool`` model, which keeps each property's
    # type, description, enum and items only (docs/tool-calling.md).
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _calls_of(message: ollama.Message) -> tuple[ToolCall, ...]:
    # Ollama sends arguments as an object and gives calls no id.
    return tuple(
        ToolCall(name=call.function.name, arguments=dict(call.function.arguments))
        for call in message.tool_calls or ()
    )


def _chunk_of(part: ollama.ChatResponse) -> ChatChunk:
    return ChatChunk(
        text=part.message.content or "",
        model=part.model,
        # Only the final ("done") part carries the counts.
        prompt_tokens=part.prompt_eval_count,
        completion_tokens=part.eval_count,
    )


@contextlib.contextmanager
def _vendor_errors_translated(model: str | None) -> Iterator[None]:
    """Turn what the ollama client (and httpx under it) raises into the contract's errors."""
    try:
        yield
    except ollama.ResponseError as error:
        if error.status_code == 400 and "does not support tools" in str(error.error):
            # The model's template has no tools: JSON mode will do (base ``chat_tools``).
            raise LLMToolsUnsupportedError(f"ollama: {error.error}") from error
        # -1: an error line inside a stream, i.e. the server failed while generating.
        if error.status_code >= 500 or error.status_code == -1:
            raise LLMUnavailableError(
                f"ollama: {error.error} (status {error.status_code})"
            ) from error
        raise LLMResponseError(
            f"ollama: {error.error} (status {error.status_code}){_about(model)}"
        ) from error
    except (ConnectionError, httpx.TransportError) as error:
        # The client maps a refused connection to the builtin ConnectionError when not
        # streaming; timeouts and broken connections come through as httpx errors.
        raise LLMUnavailableError(f"ollama: {type(error).__name__}: {error}") from error
    except (ValueError, TypeError, AttributeError) as error:
        # JSON that does not parse, or does not have the documented shape (pydantic).
        raise LLMResponseError(f"ollama: malformed answer ({type(error).__name__})") from error


def _about(model: str | None) -> str:
    return f" (model {model})" if model else ""
