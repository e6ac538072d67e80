"""OpenAI, or any OpenAI-compatible server, through the official client: chat completions (with
``tools``, streamed or not, or a ``json_schema`` response format in JSON mode), embeddings,
models."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
from django.conf import settings

from apps.integrations.bases.llm import (
    ChatChunk,
    ChatMessage,
    LLMError,
    LLMProvider,
    LLMResponseError,
    LLMToolsUnsupportedError,
    LLMUnavailableError,
    ProviderHealth,
    ToolCall,
    ToolSpec,
    ToolTurn,
)


class OpenAIProvider(LLMProvider):
    name = "openai"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None) -> None:
        super().__init__()
        api_key = api_key or settings.OPENAI_API_KEY
        if not api_key:
            raise LLMError("OPENAI_API_KEY is not set (needed for LLM_PROVIDER=openai)")
        self.base_url = base_url or settings.OPENAI_BASE_URL
        # max_retries=0: the retry policy is the contract's (once, never mid-stream).
        self._client = openai.OpenAI(
            api_key=api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
        )
        # Streamed answers: a silence (before the first piece, or between two) longer than the
        # first-token timeout means a hung model, not a long answer.
        self._streaming_client = self._client.with_options(
            timeout=httpx.Timeout(self.timeout_s, read=self.first_token_timeout_s)
        )

    # ``context_size`` is taken by every hook that asks for an answer, and ignored: an OpenAI
    # (or compatible) server owns its model's context window; chat completions have no
    # per-request setting for it (``max_completion_tokens`` bounds the answer only).

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
            wire_messages = _wire_messages(messages)
            if not stream:
                completion = self._client.chat.completions.create(
                    model=model, messages=wire_messages, temperature=temperature
                )
                usage = completion.usage
                yield ChatChunk(
                    text=completion.choices[0].message.content or "",
                    model=completion.model,
                    prompt_tokens=usage.prompt_tokens if usage else None,
                    completion_tokens=usage.completion_tokens if usage else None,
                )
                return
            chunks = self._streaming_client.chat.completions.create(
                model=model,
                messages=wire_messages,
                temperature=temperature,
                stream=True,
                # Usage comes in one extra chunk (with no choices) just before [DONE].
                stream_options={"include_usage": True},
            )
            finished = False
            with chunks:
                for chunk in chunks:
                    finished = finished or any(c.finish_reason for c in chunk.choices)
                    usage = chunk.usage
                    yield ChatChunk(
                        text=(chunk.choices[0].delta.content or "") if chunk.choices else "",
                        model=chunk.model,
                        prompt_tokens=usage.prompt_tokens if usage else None,
                        completion_tokens=usage.completion_tokens if usage else None,
                    )
            if not finished:
                # An empty or cut stream: the SDK stops quietly where the events stop.
                raise LLMResponseError(
                    f"openai: the answer of {model} ended without a finish_reason"
                )

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
            completion = self._client.chat.completions.create(
                model=model,
                messages=_wire_messages(messages),
                tools=[_wire_tool(tool) for tool in tools],
                temperature=temperature,
            )
            message = completion.choices[0].message
            calls = tuple(
                ToolCall(
                    name=call.function.name,
                    arguments=_arguments_parsed(call.function.arguments),
                    id=call.id,
                )
                for call in message.tool_calls or ()
                # "custom" tools (free text) are never offered, so never expected back.
                if getattr(call, "function", None) is not None
            )
            usage = completion.usage
            return ToolTurn(
                text=message.content or "",
                tool_calls=calls,
                model=completion.model or model,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
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
            chunks = self._streaming_client.chat.completions.create(
                model=model,
                messages=_wire_messages(messages),
                tools=[_wire_tool(tool) for tool in tools],
                temperature=temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
            finished = False
            calls: dict[int, _StreamedCall] = {}
            with chunks:
                for chunk in chunks:
                    finished = finished or any(c.finish_reason for c in chunk.choices)
                    text = ""
                    if chunk.choices:
                        delta = chunk.choices[0].delta
                        text = delta.content or ""
                        for call_delta in delta.tool_calls or ():
                            _call_delta_add(calls, call_delta)
                    usage = chunk.usage
                    yield ChatChunk(
                        text=text,
                        model=chunk.model,
                        prompt_tokens=usage.prompt_tokens if usage else None,
                        completion_tokens=usage.completion_tokens if usage else None,
                    )
            if not finished:
                raise LLMResponseError(
                    f"openai: the answer of {model} ended without a finish_reason"
                )
            # The calls, complete only now, in their order.
            yield ChatChunk(
                tool_calls=tuple(
                    ToolCall(
                        name=call.name,
                        arguments=_arguments_parsed("".join(call.arguments)),
                        id=call.id,
                    )
                    for _, call in sorted(calls.items())
                    if call.is_function
                )
            )

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
            completion = self._client.chat.completions.create(
                model=model,
                messages=_wire_messages(messages),
                temperature=temperature,
                # Not "strict": strict schemas forbid the free-form ``arguments`` object.
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "reply", "schema": schema},
                },
            )
            usage = completion.usage
            return ChatChunk(
                text=completion.choices[0].message.content or "",
                model=completion.model,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
            )

    def _tool_support_check(self, model: str) -> bool:
        # OpenAI and the compatible servers take tools; one that refuses them for a model
        # (Ollama's /v1: 400 "... does not support tools") is remembered by ``chat_tools``.
        return True

    def _tool_support_scope(self) -> str:
        return str(self.base_url)

    def _embed_attempt(self, texts: list[str], *, model: str) -> list[list[float]]:
        with _vendor_errors_translated(model):
            # "float": OpenAI-compatible servers do not all speak the SDK's default, base64.
            response = self._client.embeddings.create(
                model=model, input=texts, encoding_format="float"
            )
            by_position = sorted(response.data, key=lambda item: item.index)
            return [list(item.embedding) for item in by_position]

    def _health_check(self, *, timeout_s: float) -> ProviderHealth:
        with _vendor_errors_translated(model=None):
            page = self._client.with_options(timeout=timeout_s).models.list()
        models = [model.id for model in page.data]
        return ProviderHealth(
            reachable=True, detail=f"openai at {self.base_url}: {len(models)} models", models=models
        )


@dataclass
class _StreamedCall:
    """A tool call as its deltas arrive: id, name and type in the first, the arguments
    string in pieces."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    is_function: bool = False


def _call_delta_add(calls: dict[int, _StreamedCall], delta: Any) -> None:
    """Add one ``choices[0].delta.tool_calls`` item to the call of its ``index`` (a server
    that sends no index sends each call whole: a new call)."""
    index = delta.index if delta.index is not None else len(calls)
    call = calls.setdefault(index, _StreamedCall())
    call.id = delta.id or call.id
    function = delta.function
    if function is None:
        return
    call.is_function = True
    # Set, not joined: some compatible servers repeat the name in every delta.
    call.name = function.name or call.name
    if function.arguments:
        call.arguments.append(function.arguments)


def _wire_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as chat completions take them: a plain message is role and content only; an
    assistant turn replays its ``tool_calls`` (arguments as a JSON string), a tool result
    answers its call by ``tool_call_id``. A call without an id (one from JSON mode) gets a
    stable one from its place in the conversation, and a result without an id answers the
    first call still waiting whose tool has its name (else the first one waiting)."""
    wire: list[dict[str, Any]] = []
    waiting: list[tuple[str, str]] = []  # (id, tool name) of calls not yet answered
    for position, message in enumerate(messages):
        if message.role == "tool":
            call_id = message.tool_call_id or _waiting_id_take(waiting, message.tool_name)
            waiting = [pair for pair in waiting if pair[0] != call_id]
            wire.append({"role": "tool", "tool_call_id": call_id, "content": message.content})
        elif message.tool_calls:
            calls = []
            waiting = []
            for index, call in enumerate(message.tool_calls):
                call_id = call.id or f"call_{position}_{index}"
                waiting.append((call_id, call.name))
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": call.name,
                            "arguments": _arguments_text(call.arguments),
                        },
                    }
                )
            wire.append(
                {"role": message.role, "content": message.content or None, "tool_calls": calls}
            )
        else:
            wire.append({"role": message.role, "content": message.content})
    return wire


def _waiting_id_take(waiting: list[tuple[str, str]], tool_name: str) -> str:
    for call_id, name in waiting:
        if name == tool_name:
            return call_id
    return waiting[0][0] if waiting else "call_unknown"


def _arguments_text(arguments: Any) -> str:
    # A string is what the model sent when it was not JSON: replayed as it was.
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False, default=str)


def _arguments_parsed(arguments: str) -> Any:
    """OpenAI sends a call's arguments as a JSON string, which a model may get wrong: kept
    raw then, for the caller to refuse with the reason."""
    try:
        return json.loads(arguments)
    except (TypeError, ValueError):
        return arguments


def _wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


@contextlib.contextmanager
def _vendor_errors_translated(model: str | None) -> Iterator[None]:
    """Turn what the openai client raises into the contract's errors (never echoing a key)."""
    try:
        yield
    except openai.AuthenticationError as error:
        # OpenAI's message repeats part of the key: say what happened, not what it said.
        raise LLMResponseError(
            f"openai: the API key was rejected (status {error.status_code})"
        ) from error
    except openai.APIStatusError as error:
        if error.status_code == 400 and "does not support tools" in str(error.message):
            # An OpenAI-compatible server (Ollama's /v1) whose model has no tool template.
            raise LLMToolsUnsupportedError(f"openai: {error.message}") from error
        if error.status_code >= 500:
            raise LLMUnavailableError(
                f"openai: status {error.status_code}: {error.message}"
            ) from error
        raise LLMResponseError(
            f"openai: status {error.status_code}: {error.message}{_about(model)}"
        ) from error
    except openai.APIConnectionError as error:  # includes APITimeoutError
        raise LLMUnavailableError(f"openai: {type(error).__name__}: {error}") from error
    except openai.APIResponseValidationError as error:
        raise LLMResponseError(f"openai: malformed answer: {error.message}") from error
    except openai.APIError as error:
        # No status: an error event inside a stream, i.e. the server failed while generating.
        raise LLMUnavailableError(f"openai: {error.message}") from error
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        # JSON that does not parse, or does not have the documented shape.
        raise LLMResponseError(f"openai: malformed answer ({type(error).__name__})") from error


def _about(model: str | None) -> str:
    return f" (model {model})" if model else ""
