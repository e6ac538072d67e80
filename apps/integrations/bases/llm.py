"""The LLM capability: what domain code may ask of a language model, whoever serves it.

Domain apps import this module only, never a vendor SDK. An adapter (``apps.integrations.ollama``,
``apps.integrations.openai``) implements three small ``_…`` hooks that make ONE attempt and
translate its vendor's failures into the two errors below; this base owns the policy shared by
all of them: timeouts, one retry of a transient failure, never repeating streamed text, checking
embeddings, and what is logged (never a prompt, never a key).

Two timeouts: ``timeout_s`` bounds a call that answers all at once (an unstreamed chat, an
embedding); a streamed chat must bring its first piece, and each next one, within the shorter
``first_token_timeout_s`` (an adapter applies it as the read timeout of its streamed requests),
so a model that hangs is reported unreachable after seconds instead of minutes.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    duration_ms: int  # wall time of the whole call, retry included


@dataclass(frozen=True)
class ProviderHealth:
    reachable: bool
    detail: str
    models: list[str]


@dataclass(frozen=True)
class ChatChunk:
    """One piece of an answer as an adapter reads it: some text and/or what the server said
    about the whole answer (the model that served it, token counts), usually in the last one."""

    text: str = ""
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMError(Exception):
    """Anything that keeps the model from giving a usable answer."""


class LLMUnavailableError(LLMError):
    """The model is unreachable right now (cannot connect, timeout, 5xx): try later."""


class LLMResponseError(LLMError):
    """The server answered, but the answer is unusable (4xx such as an unknown model or a
    rejected key, a malformed or empty body, embeddings of the wrong count or size).
    Trying again will not help."""


class LLMProvider(abc.ABC):
    name: str

    def __init__(self) -> None:
        self.timeout_s = float(settings.LLM_TIMEOUT_S)
        self.first_token_timeout_s = min(float(settings.LLM_FIRST_TOKEN_TIMEOUT_S), self.timeout_s)
        # Wait before the one retry of a transient failure.
        self.retry_backoff_s = float(settings.LLM_RETRY_BACKOFF_S)

    # --- what domain code calls ------------------------------------------------------------

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        model: str,
        temperature: float,
        stream: bool = False,
        on_delta: Callable[[str], None] | None = None,
    ) -> ChatResult:
        """Ask ``model`` for the next assistant message.

        With ``stream=True`` each piece of text is given to ``on_delta`` as it arrives, in
        order; the result still carries the full text. A transient failure is retried once,
        but only while no piece has been delivered, so a caller never sees text twice.
        Raises ``LLMUnavailableError`` or ``LLMResponseError``; an error raised by
        ``on_delta`` propagates unchanged.
        """
        started = time.monotonic()
        logger.debug(
            "llm chat: provider=%s model=%s messages=%d stream=%s",
            self.name,
            model,
            len(messages),
            stream,
        )
        for attempt in (1, 2):
            pieces: list[str] = []
            served_by, prompt_tokens, completion_tokens = model, None, None
            try:
                chunks = self._chat_attempt(
                    messages, model=model, temperature=temperature, stream=stream
                )
                with contextlib.closing(chunks):
                    for chunk in chunks:
                        if chunk.text:
                            pieces.append(chunk.text)
                            if stream and on_delta is not None:
                                on_delta(chunk.text)
                        served_by = chunk.model or served_by
                        prompt_tokens = _first_known(chunk.prompt_tokens, prompt_tokens)
                        completion_tokens = _first_known(chunk.completion_tokens, completion_tokens)
                break
            except LLMUnavailableError as error:
                if stream and on_delta is not None and pieces:
                    raise LLMUnavailableError(
                        f"{self.name}: the answer broke off after it had started: {error}"
                    ) from error
                if attempt == 2:
                    raise LLMUnavailableError(
                        f"{self.name} is unreachable after a retry: {error}"
                    ) from error
                self._log_retry("chat", model, error)
        result = ChatResult(
            text="".join(pieces),
            model=served_by,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            duration_ms=_elapsed_ms(started),
        )
        logger.info(
            "llm chat done: provider=%s model=%s prompt_tokens=%s completion_tokens=%s"
            " duration_ms=%d attempts=%d",
            self.name,
            result.model,
            result.prompt_tokens,
            result.completion_tokens,
            result.duration_ms,
            attempt,
        )
        return result

    def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        """One vector per text, in order, all of the same length (``LLMResponseError`` if
        the server says otherwise). ``model`` defaults to ``settings.LLM_EMBEDDING_MODEL``."""
        if not texts:
            return []
        model = model or settings.LLM_EMBEDDING_MODEL
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                vectors = self._embed_attempt(list(texts), model=model)
                break
            except LLMUnavailableError as error:
                if attempt == 2:
                    raise LLMUnavailableError(
                        f"{self.name} is unreachable after a retry: {error}"
                    ) from error
                self._log_retry("embed", model, error)
        _embeddings_check(vectors, expected_count=len(texts), provider=self.name, model=model)
        logger.info(
            "llm embed done: provider=%s model=%s texts=%d dimension=%d duration_ms=%d",
            self.name,
            model,
            len(texts),
            len(vectors[0]),
            _elapsed_ms(started),
        )
        return vectors

    def health(self, *, timeout_s: float = 2.0) -> ProviderHealth:
        """A cheap "is it there, and with which models" check. Never raises."""
        try:
            return self._health_check(timeout_s=timeout_s)
        except Exception as error:  # a health probe reports, it does not fail
            detail = str(error) if isinstance(error, LLMError) else f"{self.name}: {error}"
            return ProviderHealth(reachable=False, detail=detail, models=[])

    # --- what an adapter implements: one attempt, vendor errors translated ------------------

    @abc.abstractmethod
    def _chat_attempt(
        self, messages: list[ChatMessage], *, model: str, temperature: float, stream: bool
    ) -> Iterator[ChatChunk]:
        """Yield the answer as it arrives (a single chunk when not streaming). Raise
        ``LLMUnavailableError`` for a transient failure, ``LLMResponseError`` otherwise."""

    @abc.abstractmethod
    def _embed_attempt(self, texts: list[str], *, model: str) -> list[list[float]]:
        """Embed ``texts`` in one request; same errors as ``_chat_attempt``."""

    @abc.abstractmethod
    def _health_check(self, *, timeout_s: float) -> ProviderHealth:
        """List the models; may raise (``health`` turns that into "unreachable")."""

    # --- helpers ---------------------------------------------------------------------------

    def _log_retry(self, operation: str, model: str, error: LLMError) -> None:
        logger.warning(
            "llm %s failed, retrying once: provider=%s model=%s error=%s",
            operation,
            self.name,
            model,
            error,
        )
        time.sleep(self.retry_backoff_s)


def _first_known(new: int | None, old: int | None) -> int | None:
    return new if new is not None else old


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _embeddings_check(vectors: object, *, expected_count: int, provider: str, model: str) -> None:
    if not isinstance(vectors, list) or len(vectors) != expected_count:
        count = len(vectors) if isinstance(vectors, list) else "no"
        raise LLMResponseError(
            f"{provider} returned {count} embeddings for {expected_count} texts ({model})"
        )
    dimensions = {len(vector) if isinstance(vector, list) else -1 for vector in vectors}
    if len(dimensions) != 1 or 0 in dimensions or -1 in dimensions:
        raise LLMResponseError(f"{provider} returned embeddings of unequal or empty size ({model})")
    if not all(isinstance(value, int | float) for vector in vectors for value in vector):
        raise LLMResponseError(f"{provider} returned non-numeric embeddings ({model})")


def llm_provider_get(name: str | None = None) -> LLMProvider:
    """A new provider for ``name`` (default: ``settings.LLM_PROVIDER``), configured from the
    settings. The adapter is loaded by its dotted path (``settings.LLM_PROVIDER_BACKENDS``):
    only the chosen vendor's SDK is imported, and this contract imports no adapter."""
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    name = (name or settings.LLM_PROVIDER or "").strip().lower()
    backends = settings.LLM_PROVIDER_BACKENDS
    if name not in backends:
        raise ImproperlyConfigured(
            f"LLM_PROVIDER={name!r} is not a known LLM provider; use one of: " + ", ".join(backends)
        )
    return import_string(backends[name])()
