"""OpenAI, or any OpenAI-compatible server, through the official client: chat completions,
embeddings, models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import openai
from django.conf import settings

from apps.integrations.bases.llm import (
    ChatChunk,
    ChatMessage,
    LLMError,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    ProviderHealth,
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

    def _chat_attempt(
        self, messages: list[ChatMessage], *, model: str, temperature: float, stream: bool
    ) -> Iterator[ChatChunk]:
        with _vendor_errors_translated(model):
            wire_messages = [{"role": m.role, "content": m.content} for m in messages]
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
