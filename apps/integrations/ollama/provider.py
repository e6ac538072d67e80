"""Ollama through its official client: ``/api/chat``, ``/api/embed``, ``/api/tags``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import ollama
from django.conf import settings

from apps.integrations.bases.llm import (
    ChatChunk,
    ChatMessage,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    ProviderHealth,
)


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
        self, messages: list[ChatMessage], *, model: str, temperature: float, stream: bool
    ) -> Iterator[ChatChunk]:
        with _vendor_errors_translated(model):
            client = self._streaming_client if stream else self._client
            response = client.chat(
                model=model,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                options={"temperature": temperature},
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
