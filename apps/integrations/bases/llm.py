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

Tool calling (``chat_tools``): a model that takes tools natively gets them through the vendor's
API (adapter hook ``_tools_attempt``); any other gets them described in a system message and
answers one JSON object constrained by a schema (hook ``_json_attempt``), which this base parses
into the same ``ToolTurn``. Which way is used is ``tool_support`` (hook ``_tool_support_check``),
remembered per provider, server and model for ``TOOL_SUPPORT_TTL_S``. Given ``on_delta``, a native
turn is streamed (hook ``_tools_stream_attempt``) under the same policy as a streamed ``chat``.
docs/tool-calling.md.
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: its public name, what it does, and its parameters as a
    JSON schema (an object schema)."""

    name: str
    description: str
    parameters: dict


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for. ``arguments`` is what the model sent, parsed from JSON
    when it came as text; it may be anything (a string that is not JSON, a list…): the caller
    validates it against the tool's schema. ``id`` is the vendor's call id ("" when the vendor
    gives none, as Ollama does)."""

    name: str
    arguments: Any
    id: str = ""


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant" | "tool"
    content: str
    # An assistant turn that asked for tools carries its calls, so the next request can
    # replay the conversation as the model saw it.
    tool_calls: tuple[ToolCall, ...] = ()
    # A "tool" message: the result of the call with this id and tool name.
    tool_call_id: str = ""
    tool_name: str = ""


@dataclass(frozen=True)
class ToolTurn:
    """The model's next step when offered tools: some text, and/or calls to make.

    ``mode``: "native" (the vendor's tool calling) or "json" (a JSON reply constrained by a
    schema, for a model without tool support)."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    duration_ms: int
    mode: str = "native"


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
    about the whole answer (the model that served it, token counts), usually in the last one.
    In a streamed tool turn, ``tool_calls`` are complete calls (an adapter assembles a call
    its vendor streams in pieces); the calls of all the chunks, in order, are the turn's."""

    text: str = ""
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_calls: tuple[ToolCall, ...] = ()


class LLMError(Exception):
    """Anything that keeps the model from giving a usable answer."""


class LLMUnavailableError(LLMError):
    """The model is unreachable right now (cannot connect, timeout, 5xx): try later."""


class LLMResponseError(LLMError):
    """The server answered, but the answer is unusable (4xx such as an unknown model or a
    rejected key, a malformed or empty body, embeddings of the wrong count or size).
    Trying again will not help."""


class LLMToolsUnsupportedError(LLMResponseError):
    """The server refused tools for this model (Ollama: 400 "... does not support tools").
    Raised by an adapter's ``_tools_attempt``; ``chat_tools`` catches it, remembers that the
    model has no tool support and asks again in JSON mode, so callers never see it."""


# How long an answer of ``tool_support`` is remembered: a model's capabilities change only
# when it is pulled again, and asking costs a request before each tool-calling turn.
TOOL_SUPPORT_TTL_S = 600.0
_tool_support_known: dict[tuple[str, str, str], tuple[float, bool]] = {}
_tool_support_lock = threading.Lock()


def tool_support_forget() -> None:
    """Forget every remembered ``tool_support`` answer (a model was pulled again; tests)."""
    with _tool_support_lock:
        _tool_support_known.clear()


class LLMProvider(abc.ABC):
    name: str

    def __init__(self) -> None:
        self.timeout_s = float(settings.LLM_TIMEOUT_S)
        self.first_token_timeout_s = min(float(settings.LLM_FIRST_TOKEN_TIMEOUT_S), self.timeout_s)
        # Wait before the one retry of a transient failure.
        self.retry_backoff_s = float(settings.LLM_RETRY_BACKOFF_S)
        # How long what ``tool_support`` learnt is remembered (for every provider instance).
        self.tool_support_ttl_s = TOOL_SUPPORT_TTL_S

    # --- what domain code calls ------------------------------------------------------------

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        model: str,
        temperature: float,
        stream: bool = False,
        on_delta: Callable[[str], None] | None = None,
        context_size: int | None = None,
    ) -> ChatResult:
        """Ask ``model`` for the next assistant message.

        ``context_size``: how many tokens the model may read at most, prompt and answer
        together; the caller sizes its prompt to it. An adapter whose server takes it per
        request sends it (Ollama's ``num_ctx``: its default, 4096, silently drops the start of
        a longer prompt); one whose server owns its context ignores it. None: nothing is sent.

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
        answer, attempts = self._streamed_with_one_retry(
            "chat",
            model,
            lambda: self._chat_attempt(
                messages,
                model=model,
                temperature=temperature,
                stream=stream,
                context_size=context_size,
            ),
            on_delta=on_delta if stream else None,
        )
        result = ChatResult(
            text=answer.text,
            model=answer.model or model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
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
            attempts,
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

    def chat_tools(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        on_delta: Callable[[str], None] | None = None,
        context_size: int | None = None,
    ) -> ToolTurn:
        """Ask ``model`` for its next step, offering ``tools``.

        A model that supports tools (``tool_support``) gets them natively; any other gets
        the same tools described in the prompt and must answer JSON constrained by a schema
        ("json" mode), parsed here into the same ``ToolTurn``. A JSON reply that is not the
        expected object is taken as a plain answer (no calls), never an error. A server that
        refuses native tools for the model is remembered as "no support" and asked again in
        JSON mode. With no ``tools``, a plain answer (no calls; a conversation that holds tool
        calls and results is replayed as text to a model without tool support).

        ``messages`` may hold assistant turns with ``tool_calls`` and "tool" results; each
        adapter replays them in its vendor's shape. Tool calls come back as the model sent
        them: the caller validates names and arguments. A transient failure is retried
        once. Raises ``LLMUnavailableError`` or ``LLMResponseError``. Logs the provider, model,
        mode, counts and the names of the tools called, never a message or an argument.

        Without ``on_delta`` the turn is unstreamed. With it, a native turn and a plain one (no
        ``tools``) are streamed like ``chat(stream=True)``: each piece of text goes to
        ``on_delta`` as it arrives, in order (the turn still carries the full text); calls
        streamed with it are gathered into ``tool_calls``; the first-token timeout applies;
        a transient failure is retried once only while no piece was delivered, and one after
        a piece raises ``LLMUnavailableError`` ("broke off after it had started"). A JSON-mode
        turn cannot be streamed (its text is the envelope, not the answer): it is asked
        unstreamed and ``on_delta`` is called once with the parsed answer, if not empty. A
        server refusing native tools refuses before any piece, so the JSON fallback still
        holds. An error raised by ``on_delta`` propagates unchanged, never retried.

        ``context_size`` is sent with every request of the turn, whichever way it is asked
        (as ``chat`` sends it).
        """
        started = time.monotonic()
        logger.debug(
            "llm chat_tools: provider=%s model=%s messages=%d tools=%d",
            self.name,
            model,
            len(messages),
            len(tools),
        )
        if not tools:
            turn, attempts = self._plain_turn(
                messages,
                model=model,
                temperature=temperature,
                on_delta=on_delta,
                context_size=context_size,
            )
        else:
            turn, attempts = None, 0
            if self.tool_support(model):
                try:
                    if on_delta is None:
                        turn, attempts = self._with_one_retry(
                            "chat_tools",
                            model,
                            lambda: self._tools_attempt(
                                messages,
                                tools=tools,
                                model=model,
                                temperature=temperature,
                                context_size=context_size,
                            ),
                        )
                    else:
                        turn, attempts = self._tools_streamed(
                            messages,
                            tools=tools,
                            model=model,
                            temperature=temperature,
                            on_delta=on_delta,
                            context_size=context_size,
                        )
                    turn = replace(turn, mode="native")
                except LLMToolsUnsupportedError as error:
                    logger.info(
                        "llm tools refused, using JSON mode: provider=%s model=%s error=%s",
                        self.name,
                        model,
                        error,
                    )
                    self._tool_support_remember(model, supported=False)
            if turn is None:
                turn, attempts = self._json_turn(
                    messages,
                    tools=tools,
                    model=model,
                    temperature=temperature,
                    context_size=context_size,
                )
                # Unstreamed, but the caller who streams gets the answer all the same.
                if on_delta is not None and turn.text:
                    on_delta(turn.text)
        turn = replace(turn, duration_ms=_elapsed_ms(started))
        # Only offered names are logged: a name the model made up is text of its own.
        offered = {tool.name for tool in tools}
        called = [call.name if call.name in offered else "<unknown>" for call in turn.tool_calls]
        logger.info(
            "llm chat_tools done: provider=%s model=%s mode=%s tools=%d calls=%s"
            " prompt_tokens=%s completion_tokens=%s duration_ms=%d attempts=%d streamed=%s",
            self.name,
            turn.model,
            turn.mode,
            len(tools),
            ",".join(called) or "-",
            turn.prompt_tokens,
            turn.completion_tokens,
            turn.duration_ms,
            attempts,
            on_delta is not None and turn.mode == "native",
        )
        return turn

    def tool_support(self, model: str) -> bool:
        """Whether ``model`` takes native tool calls (Ollama: "tools" in the ``capabilities``
        of ``/api/show``; remembered per provider and model). Never raises: a model that
        cannot be asked is treated as not supporting tools.

        An answer is remembered for ``tool_support_ttl_s`` (``TOOL_SUPPORT_TTL_S``) per adapter
        class, server and model, across provider instances and threads; a failed check is not
        remembered (the next call asks again)."""
        key = self._tool_support_key(model)
        with _tool_support_lock:
            known = _tool_support_known.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        try:
            supported = bool(self._tool_support_check(model))
        except Exception as error:  # asking is best effort: no answer means JSON mode
            logger.warning(
                "llm tool support unknown, using JSON mode: provider=%s model=%s error=%s",
                self.name,
                model,
                error,
            )
            return False
        self._tool_support_remember(model, supported=supported)
        return supported

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
        self,
        messages: list[ChatMessage],
        *,
        model: str,
        temperature: float,
        stream: bool,
        context_size: int | None = None,
    ) -> Iterator[ChatChunk]:
        """Yield the answer as it arrives (a single chunk when not streaming). Raise
        ``LLMUnavailableError`` for a transient failure, ``LLMResponseError`` otherwise.
        ``context_size`` (every hook that asks for an answer takes it): the model's context
        window for this request, when the vendor takes one per request; None, send none."""

    @abc.abstractmethod
    def _embed_attempt(self, texts: list[str], *, model: str) -> list[list[float]]:
        """Embed ``texts`` in one request; same errors as ``_chat_attempt``."""

    @abc.abstractmethod
    def _health_check(self, *, timeout_s: float) -> ProviderHealth:
        """List the models; may raise (``health`` turns that into "unreachable")."""

    # Tool calling. The defaults make any adapter work in JSON mode, the tools described in
    # the prompt only; an adapter overrides them to use its vendor's tools and JSON schemas.

    def _tool_support_check(self, model: str) -> bool:
        """Ask the server whether ``model`` takes native tools; may raise."""
        return False

    def _tool_support_scope(self) -> str:
        """The server this provider talks to (host, base URL): part of what ``tool_support``
        remembers, so two servers with a model of the same name are asked apart."""
        return ""

    def _tools_attempt(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> ToolTurn:
        """One unstreamed request offering ``tools`` natively (``duration_ms`` and ``mode``
        are set by the base). Raise ``LLMToolsUnsupportedError`` when the server refuses
        tools for the model, otherwise the errors of ``_chat_attempt``."""
        raise LLMToolsUnsupportedError(f"{self.name}: no native tool calling in this adapter")

    def _tools_stream_attempt(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> Iterator[ChatChunk]:
        """One streamed request offering ``tools`` natively, through the adapter's streaming
        client (first-token timeout): yield the text as it arrives and each call, complete,
        in a chunk's ``tool_calls``; same errors as ``_tools_attempt``, a refusal of tools
        before anything is yielded. The default is ``_tools_attempt`` as one chunk."""
        turn = self._tools_attempt(
            messages,
            tools=tools,
            model=model,
            temperature=temperature,
            context_size=context_size,
        )
        yield ChatChunk(
            text=turn.text,
            model=turn.model,
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
            tool_calls=turn.tool_calls,
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
        """One unstreamed request whose answer must be JSON valid against ``schema`` (the
        default asks through the prompt only); same errors as ``_chat_attempt``."""
        chunks = self._chat_attempt(
            messages,
            model=model,
            temperature=temperature,
            stream=False,
            context_size=context_size,
        )
        with contextlib.closing(chunks):
            parts = list(chunks)
        return ChatChunk(
            text="".join(part.text for part in parts),
            model=next((p.model for p in reversed(parts) if p.model), None),
            prompt_tokens=next((p.prompt_tokens for p in parts if p.prompt_tokens), None),
            completion_tokens=next(
                (p.completion_tokens for p in parts if p.completion_tokens), None
            ),
        )

    # --- helpers ---------------------------------------------------------------------------

    def _with_one_retry(
        self, operation: str, model: str, attempt: Callable[[], _T]
    ) -> tuple[_T, int]:
        """``attempt()``, once more after a transient failure; the value and the attempts."""
        for attempt_number in (1, 2):
            try:
                return attempt(), attempt_number
            except LLMUnavailableError as error:
                if attempt_number == 2:
                    raise LLMUnavailableError(
                        f"{self.name} is unreachable after a retry: {error}"
                    ) from error
                self._log_retry(operation, model, error)
        raise AssertionError("unreachable")

    def _streamed_with_one_retry(
        self,
        operation: str,
        model: str,
        attempt: Callable[[], Iterator[ChatChunk]],
        *,
        on_delta: Callable[[str], None] | None,
    ) -> tuple[ChatChunk, int]:
        """Read the chunks of ``attempt()``, each piece of text given to ``on_delta`` (when
        set) as it comes; the whole answer as one chunk, and the attempts. A transient failure
        is retried once, but only while no piece was delivered: after one, it raises
        "broke off" (a retry would show the person the text twice)."""
        for attempt_number in (1, 2):
            pieces: list[str] = []
            calls: list[ToolCall] = []
            served_by, prompt_tokens, completion_tokens = None, None, None
            try:
                chunks = attempt()
                with contextlib.closing(chunks):
                    for chunk in chunks:
                        if chunk.text:
                            pieces.append(chunk.text)
                            if on_delta is not None:
                                on_delta(chunk.text)
                        calls.extend(chunk.tool_calls)
                        served_by = chunk.model or served_by
                        prompt_tokens = _first_known(chunk.prompt_tokens, prompt_tokens)
                        completion_tokens = _first_known(chunk.completion_tokens, completion_tokens)
            except LLMUnavailableError as error:
                if on_delta is not None and pieces:
                    raise LLMUnavailableError(
                        f"{self.name}: the answer broke off after it had started: {error}"
                    ) from error
                if attempt_number == 2:
                    raise LLMUnavailableError(
                        f"{self.name} is unreachable after a retry: {error}"
                    ) from error
                self._log_retry(operation, model, error)
                continue
            answer = ChatChunk(
                text="".join(pieces),
                model=served_by,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                tool_calls=tuple(calls),
            )
            return answer, attempt_number
        raise AssertionError("unreachable")

    def _tools_streamed(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        on_delta: Callable[[str], None],
        context_size: int | None = None,
    ) -> tuple[ToolTurn, int]:
        """A native turn, streamed: text to ``on_delta`` as it comes, calls gathered."""
        answer, attempts = self._streamed_with_one_retry(
            "chat_tools",
            model,
            lambda: self._tools_stream_attempt(
                messages,
                tools=tools,
                model=model,
                temperature=temperature,
                context_size=context_size,
            ),
            on_delta=on_delta,
        )
        turn = ToolTurn(
            text=answer.text,
            tool_calls=answer.tool_calls,
            model=answer.model or model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            duration_ms=0,
        )
        return turn, attempts

    def _plain_turn(
        self,
        messages: list[ChatMessage],
        *,
        model: str,
        temperature: float,
        on_delta: Callable[[str], None] | None = None,
        context_size: int | None = None,
    ) -> tuple[ToolTurn, int]:
        """No tools offered: a plain answer, streamed to ``on_delta`` when given (as ``chat``
        streams). Tool calls and results already in the conversation go as they are to a model
        with tool support, as text to any other (its template may drop "tool" messages)."""
        if _holds_tool_parts(messages) and not self.tool_support(model):
            messages = _tool_history_as_text(messages, calls_as_envelope=False)
        result = self.chat(
            messages,
            model=model,
            temperature=temperature,
            stream=on_delta is not None,
            on_delta=on_delta,
            context_size=context_size,
        )
        turn = ToolTurn(
            text=result.text,
            tool_calls=(),
            model=result.model,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            duration_ms=result.duration_ms,
            mode="native",
        )
        return turn, 1

    def _json_turn(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        model: str,
        temperature: float,
        context_size: int | None = None,
    ) -> tuple[ToolTurn, int]:
        """JSON mode: the tools described in a system message, the history as text, the
        answer constrained by ``tool_reply_schema`` and parsed leniently."""
        wire = _tools_described(_tool_history_as_text(messages, calls_as_envelope=True), tools)
        schema = tool_reply_schema(tools)
        chunk, attempts = self._with_one_retry(
            "chat_tools",
            model,
            lambda: self._json_attempt(
                wire,
                schema=schema,
                model=model,
                temperature=temperature,
                context_size=context_size,
            ),
        )
        text, calls = tool_reply_parse(chunk.text, tools=tools)
        turn = ToolTurn(
            text=text,
            tool_calls=calls,
            model=chunk.model or model,
            prompt_tokens=chunk.prompt_tokens,
            completion_tokens=chunk.completion_tokens,
            duration_ms=0,
            mode="json",
        )
        return turn, attempts

    def _tool_support_key(self, model: str) -> tuple[str, str, str]:
        provider_class = type(self)
        return (
            f"{provider_class.__module__}.{provider_class.__qualname__}",
            self._tool_support_scope(),
            model,
        )

    def _tool_support_remember(self, model: str, *, supported: bool) -> None:
        with _tool_support_lock:
            _tool_support_known[self._tool_support_key(model)] = (
                time.monotonic() + self.tool_support_ttl_s,
                supported,
            )

    def _log_retry(self, operation: str, model: str, error: LLMError) -> None:
        logger.warning(
            "llm %s failed, retrying once: provider=%s model=%s error=%s",
            operation,
            self.name,
            model,
            error,
        )
        time.sleep(self.retry_backoff_s)


# --- JSON mode: the prompt, the schema, the parsing ---------------------------------------------

_TOOLS_PROMPT = """You can call tools. Each tool below has a name, what it does, and its \
parameters as a JSON schema:

{tools}

Reply with one JSON object and nothing else, of this form:
{{"tool_calls": [{{"name": "<a tool name above>", "arguments": {{<its parameters>}}}}], \
"answer": "<your reply to the person>"}}
To call tools, list the calls in "tool_calls" and leave "answer" empty: their results come \
back to you in a later message. To reply without calling a tool, give "tool_calls": [] and \
your reply in "answer"."""


def tool_reply_schema(tools: list[ToolSpec]) -> dict:
    """The JSON schema a JSON-mode answer is constrained by. ``tool_calls`` comes first: a
    model writing under a grammar decides on its calls before it writes an answer."""
    return {
        "type": "object",
        "properties": {
            "tool_calls": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "enum": [tool.name for tool in tools]},
                        "arguments": {"type": "object"},
                    },
                    "required": ["name", "arguments"],
                },
            },
            "answer": {"type": "string"},
        },
        "required": ["tool_calls", "answer"],
    }


def tool_reply_parse(text: str, *, tools: list[ToolSpec]) -> tuple[str, tuple[ToolCall, ...]]:
    """The answer and the calls of a JSON-mode reply. Models are messy: a reply in a code
    fence or with words around the object is read too; a single bare call
    ``{"name": <an offered tool>, "arguments": ...}`` counts as one call; anything else that
    is not the envelope is the answer itself, with no calls. Never raises."""
    envelope = _json_object_in(text)
    if envelope is None:
        return text.strip(), ()
    if "tool_calls" in envelope or "answer" in envelope:
        answer = envelope.get("answer")
        if not isinstance(answer, str):
            answer = "" if answer is None else json.dumps(answer, ensure_ascii=False)
        raw_calls = envelope.get("tool_calls") or []
        if not isinstance(raw_calls, list):
            raw_calls = [raw_calls]
        return answer.strip(), tuple(_tool_call_of(item) for item in raw_calls)
    offered = {tool.name for tool in tools}
    if envelope.get("name") in offered and "arguments" in envelope:
        return "", (_tool_call_of(envelope),)
    return text.strip(), ()


def _tool_call_of(item: object) -> ToolCall:
    """One call of a JSON-mode reply, kept as the model wrote it (arguments given as a JSON
    string are parsed); a malformed item becomes a call with no name, which the caller
    refuses and reports like any unknown tool."""
    if not isinstance(item, dict):
        return ToolCall(name="", arguments=item)
    name = item.get("name")
    arguments = item.get("arguments", {})
    if isinstance(arguments, str):
        # Not JSON: kept as the model wrote it, and the caller refuses it with the reason.
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    return ToolCall(name=name if isinstance(name, str) else "", arguments=arguments)


def _json_object_in(text: str) -> dict | None:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").strip()
        if stripped[:4].lower() == "json":
            stripped = stripped[4:]
    candidates = [stripped]
    first, last = stripped.find("{"), stripped.rfind("}")
    if 0 <= first < last:
        candidates.append(stripped[first : last + 1])
    for candidate in candidates:
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _tools_described(messages: list[ChatMessage], tools: list[ToolSpec]) -> list[ChatMessage]:
    """The tools and the reply format, added to the first system message (several system
    messages confuse some chat templates), or as a new first message."""
    listing = "\n".join(
        f"- {tool.name}: {tool.description}\n"
        f"  parameters: {json.dumps(tool.parameters, ensure_ascii=False, sort_keys=True)}"
        for tool in tools
    )
    prompt = _TOOLS_PROMPT.format(tools=listing)
    if messages and messages[0].role == "system":
        first = messages[0]
        return [replace(first, content=f"{first.content}\n\n{prompt}"), *messages[1:]]
    return [ChatMessage(role="system", content=prompt), *messages]


def _holds_tool_parts(messages: list[ChatMessage]) -> bool:
    return any(message.tool_calls or message.role == "tool" for message in messages)


def _tool_history_as_text(
    messages: list[ChatMessage], *, calls_as_envelope: bool
) -> list[ChatMessage]:
    """The conversation with its tool calls and results as plain messages, for a model that
    has no tool template: an assistant turn's calls become the JSON it is asked to write (or
    a line of text), a result becomes a user message naming the tool."""
    plain: list[ChatMessage] = []
    for message in messages:
        if message.role == "tool":
            about = f" {message.tool_name}" if message.tool_name else ""
            plain.append(
                ChatMessage(
                    role="user", content=f"Result of the tool call{about}:\n{message.content}"
                )
            )
        elif message.tool_calls:
            calls = [{"name": c.name, "arguments": c.arguments} for c in message.tool_calls]
            if calls_as_envelope:
                content = json.dumps(
                    {"tool_calls": calls, "answer": message.content},
                    ensure_ascii=False,
                    default=str,
                )
            else:
                called = "; ".join(
                    f"{c['name']} {json.dumps(c['arguments'], ensure_ascii=False, default=str)}"
                    for c in calls
                )
                content = f"{message.content}\n(tools called: {called})".strip()
            plain.append(ChatMessage(role=message.role, content=content))
        else:
            plain.append(message)
    return plain


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
