"""The Ollama adapter on the wire: what the official client sends to the Ollama double, and how
Ollama-specific answers are read. The shared retry policy is in test_llm_provider.py."""

from __future__ import annotations

import json
import time

import pytest

from apps.integrations.bases.llm import ChatMessage, LLMResponseError, LLMUnavailableError
from apps.integrations.ollama.provider import OllamaProvider
from tests.doubles.base import Reply

MODEL = "llama3.1:8b"
CONVERSATION = [
    ChatMessage(role="system", content="You are NOX, a DevOps engineer."),
    ChatMessage(role="user", content="Why did the deploy fail?"),
]


def _ndjson(*lines: dict) -> Reply:
    return Reply.stream(
        [json.dumps(line).encode() + b"\n" for line in lines], content_type="application/x-ndjson"
    )


def _part(content: str, **extra) -> dict:
    return {
        "model": MODEL,
        "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        **extra,
    }


def test_the_provider_talks_to_the_ollama_host_of_the_settings(ollama_double):
    OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0)
    assert len(ollama_double.requests_to("/api/chat")) == 1


def test_the_messages_model_and_temperature_reach_ollama_chat(ollama_double):
    OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.3, stream=True)

    sent = ollama_double.requests_to("/api/chat")[0].json
    assert sent["model"] == MODEL
    assert sent["messages"] == [
        {"role": "system", "content": "You are NOX, a DevOps engineer."},
        {"role": "user", "content": "Why did the deploy fail?"},
    ]
    assert sent["options"] == {"temperature": 0.3}
    assert sent["stream"] is True


def test_a_chat_without_streaming_asks_ollama_not_to_stream(ollama_double):
    OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=False)
    assert ollama_double.requests_to("/api/chat")[0].json["stream"] is False


def test_token_counts_are_the_eval_counts_of_the_final_chunk(ollama_double):
    ollama_double.reply_next(
        _ndjson(
            _part("Out of "),
            _part("memory."),
            _part("", done=True, done_reason="stop", prompt_eval_count=111, eval_count=7),
        )
    )

    result = OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)

    assert (result.text, result.prompt_tokens, result.completion_tokens) == (
        "Out of memory.",
        111,
        7,
    )


def test_a_stream_that_ends_without_a_done_chunk_raises_llm_response_error(ollama_double):
    ollama_double.reply_next(_ndjson(_part("Out of ")))
    with pytest.raises(LLMResponseError, match="without 'done'"):
        OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)


def test_an_error_line_before_any_text_is_retried_like_a_server_failure(ollama_double):
    ollama_double.reply_next(_ndjson({"error": "llama runner process has terminated"}))
    result = OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)
    assert result.text == ollama_double.reply_text
    assert len(ollama_double.requests_to("/api/chat")) == 2


def test_an_unknown_model_error_carries_ollamas_reason(ollama_double):
    with pytest.raises(LLMResponseError, match=r"model 'mistral' not found.*status 404"):
        OllamaProvider().chat(CONVERSATION, model="mistral", temperature=0.0)


def test_embed_sends_all_texts_as_one_input_with_the_configured_model(ollama_double, settings):
    settings.LLM_EMBEDDING_MODEL = "nomic-embed-text"

    OllamaProvider().embed(["disk full", "dns down"])

    sent = ollama_double.requests_to("/api/embed")[0].json
    assert sent["model"] == "nomic-embed-text"
    assert sent["input"] == ["disk full", "dns down"]


def test_embed_uses_the_model_it_is_given(ollama_double):
    ollama_double.models.append("mxbai-embed-large")
    OllamaProvider().embed(["disk full"], model="mxbai-embed-large")
    assert ollama_double.requests_to("/api/embed")[0].json["model"] == "mxbai-embed-large"


def test_health_lists_the_models_from_api_tags(ollama_double):
    health = OllamaProvider().health()
    assert health.models == ["llama3.1:8b", "nomic-embed-text"]
    assert ollama_double.url in health.detail


def test_a_model_that_answers_headers_but_no_first_chunk_is_unavailable_quickly(
    ollama_double, settings
):
    settings.LLM_TIMEOUT_S = 30
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 0.3
    ollama_double.delay_first_chunk_next(3.0, count=2)
    started = time.monotonic()

    with pytest.raises(LLMUnavailableError):
        OllamaProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)

    assert time.monotonic() - started < 2


def test_a_first_chunk_within_the_first_token_timeout_streams_the_whole_answer(
    ollama_double, settings
):
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 1.0
    ollama_double.reply_text = "Rolled back."
    ollama_double.delay_first_chunk_next(0.3)
    pieces = []

    result = OllamaProvider().chat(
        CONVERSATION, model=MODEL, temperature=0.0, stream=True, on_delta=pieces.append
    )

    assert result.text == "Rolled back."
    assert pieces == ["Rolled ", "back."]
