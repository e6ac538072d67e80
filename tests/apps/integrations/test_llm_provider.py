"""The LLM contract, proven for every adapter: provider choice, the retry policy (it lives in the
base, so each test runs against both Ollama and OpenAI through their real clients), embeddings
checks and health. Vendor wire details are in test_llm_ollama.py and test_llm_openai.py."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.integrations.bases.llm import (
    ChatMessage,
    LLMError,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    llm_provider_get,
)
from apps.integrations.ollama.provider import OllamaProvider
from apps.integrations.openai.provider import OpenAIProvider
from tests.doubles.base import ProtocolDouble, Reply

QUESTION = [ChatMessage(role="user", content="Is the deploy green?")]


@dataclass
class LLMUnderTest:
    provider: LLMProvider
    double: ProtocolDouble
    chat_model: str
    chat_path: str
    embed_path: str
    chunks_up_to_first_delta: int  # OpenAI opens its stream with a role-only chunk

    def chat(self, **kwargs) -> object:
        return self.provider.chat(QUESTION, model=self.chat_model, temperature=0.0, **kwargs)


@pytest.fixture(params=["ollama", "openai"])
def llm(request, settings) -> LLMUnderTest:
    if request.param == "ollama":
        double = request.getfixturevalue("ollama_double")
        settings.LLM_PROVIDER = "ollama"
        return LLMUnderTest(llm_provider_get(), double, "llama3.1:8b", "/api/chat", "/api/embed", 1)
    double = request.getfixturevalue("openai_double")
    return LLMUnderTest(
        llm_provider_get(), double, "gpt-4o-mini", "/v1/chat/completions", "/v1/embeddings", 2
    )


# --- choosing the provider -------------------------------------------------------------------


def test_the_provider_is_ollama_when_the_setting_says_ollama(settings):
    settings.LLM_PROVIDER = "ollama"
    assert isinstance(llm_provider_get(), OllamaProvider)


def test_the_provider_is_openai_when_the_setting_says_openai(openai_double):
    assert isinstance(llm_provider_get(), OpenAIProvider)


def test_a_name_given_to_llm_provider_get_wins_over_the_setting(openai_double):
    assert isinstance(llm_provider_get("ollama"), OllamaProvider)


def test_an_unknown_provider_name_is_an_improper_configuration(settings):
    settings.LLM_PROVIDER = "llamacloud"
    with pytest.raises(ImproperlyConfigured, match=r"LLM_PROVIDER='llamacloud'.*ollama, openai"):
        llm_provider_get()


def test_openai_without_an_api_key_fails_at_construction(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    with pytest.raises(LLMError, match="OPENAI_API_KEY is not set"):
        llm_provider_get()


# --- chat ------------------------------------------------------------------------------------


def test_streamed_deltas_arrive_in_order_and_join_to_the_full_text(llm):
    llm.double.reply_text = "Yes, all 12 checks passed."
    deltas: list[str] = []

    result = llm.chat(stream=True, on_delta=deltas.append)

    assert deltas == ["Yes, ", "all ", "12 ", "checks ", "passed."]
    assert result.text == "Yes, all 12 checks passed."


def test_a_chat_without_streaming_returns_the_full_text_and_calls_no_delta(llm):
    deltas: list[str] = []
    result = llm.chat(stream=False, on_delta=deltas.append)
    assert result.text == llm.double.reply_text
    assert deltas == []


def test_a_chat_result_records_the_model_token_counts_and_duration(llm):
    llm.double.reply_text = "Yes it is."  # 3 chunks; the question is 4 words

    result = llm.chat(stream=True)

    assert result.model == llm.chat_model
    assert (result.prompt_tokens, result.completion_tokens) == (4, 3)
    assert result.duration_ms >= 0


def test_a_500_then_success_is_retried_once_and_succeeds(llm):
    llm.double.fail_next(1, status=500)
    result = llm.chat()
    assert result.text == llm.double.reply_text
    assert len(llm.double.requests_to(llm.chat_path)) == 2


def test_two_500s_raise_llm_unavailable_error_after_exactly_one_retry(llm):
    llm.double.fail_next(2, status=503)
    with pytest.raises(LLMUnavailableError, match="after a retry"):
        llm.chat()
    assert len(llm.double.requests_to(llm.chat_path)) == 2


def test_a_dropped_connection_is_retried_once(llm):
    llm.double.close_next()
    assert llm.chat().text == llm.double.reply_text


def test_a_server_that_is_down_raises_llm_unavailable_error_quickly(llm, closed_port_url):
    llm.double.stop()
    provider = type(llm.provider)
    down = (
        provider(host=closed_port_url)
        if provider is OllamaProvider
        else provider(base_url=f"{closed_port_url}/v1")
    )
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError):
        down.chat(QUESTION, model=llm.chat_model, temperature=0.0)
    assert time.monotonic() - started < 2


def test_a_server_slower_than_the_timeout_raises_llm_unavailable_error(llm, settings):
    settings.LLM_TIMEOUT_S = 0.2
    provider = llm_provider_get()  # reads the timeout when built
    llm.double.delay_next(1.0, count=2)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError):
        provider.chat(QUESTION, model=llm.chat_model, temperature=0.0)
    assert time.monotonic() - started < 1.5


def test_a_stream_that_does_not_start_within_the_first_token_timeout_fails_quickly(llm, settings):
    settings.LLM_TIMEOUT_S = 30
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 0.3
    provider = llm_provider_get()
    llm.double.delay_next(3.0, count=2, path=llm.chat_path)  # a model that hangs
    started = time.monotonic()

    with pytest.raises(LLMUnavailableError):
        provider.chat(QUESTION, model=llm.chat_model, temperature=0.0, stream=True)

    assert time.monotonic() - started < 2  # two attempts of 0.3 s, not of 30 s
    assert len(llm.double.requests_to(llm.chat_path)) == 2


def test_an_answer_not_streamed_may_take_longer_than_the_first_token_timeout(llm, settings):
    settings.LLM_TIMEOUT_S = 5
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 0.2
    provider = llm_provider_get()
    llm.double.delay_next(0.6, path=llm.chat_path)  # it comes all at once, when done

    result = provider.chat(QUESTION, model=llm.chat_model, temperature=0.0, stream=False)

    assert result.text
    assert len(llm.double.requests_to(llm.chat_path)) == 1


def test_the_first_token_timeout_is_never_longer_than_the_whole_timeout(settings):
    settings.LLM_TIMEOUT_S = 10
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 60

    assert OllamaProvider().first_token_timeout_s == 10


def test_an_unknown_model_raises_llm_response_error_without_a_retry(llm):
    with pytest.raises(LLMResponseError, match="no-such-model"):
        llm.provider.chat(QUESTION, model="no-such-model", temperature=0.0, stream=True)
    assert len(llm.double.requests_to(llm.chat_path)) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_body_that_is_not_json_raises_llm_response_error_without_a_retry(llm, stream):
    llm.double.reply_next(
        Reply(body=b"<html>oops</html>", headers={"Content-Type": "application/json"})
    )
    with pytest.raises(LLMResponseError):
        llm.chat(stream=stream)
    assert len(llm.double.requests_to(llm.chat_path)) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_json_body_of_the_wrong_shape_raises_llm_response_error(llm, stream):
    llm.double.reply_next(Reply.json({"unexpected": True}))
    with pytest.raises(LLMResponseError):
        llm.chat(stream=stream)


@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_body_raises_llm_response_error(llm, stream):
    llm.double.reply_next(Reply(body=b"", headers={"Content-Type": "application/json"}))
    with pytest.raises(LLMResponseError):
        llm.chat(stream=stream)


def test_a_stream_that_breaks_after_the_first_delta_is_not_retried(llm):
    llm.double.reply_text = "Rolling back now."
    llm.double.cut_stream_next(after_chunks=llm.chunks_up_to_first_delta)
    deltas: list[str] = []

    with pytest.raises(LLMUnavailableError, match="broke off"):
        llm.chat(stream=True, on_delta=deltas.append)

    assert deltas == ["Rolling "]  # delivered once, never repeated by a retry
    assert len(llm.double.requests_to(llm.chat_path)) == 1


def test_a_stream_that_breaks_before_any_delta_is_retried(llm):
    llm.double.cut_stream_next(after_chunks=0)
    deltas: list[str] = []

    result = llm.chat(stream=True, on_delta=deltas.append)

    assert "".join(deltas) == result.text == llm.double.reply_text
    assert len(llm.double.requests_to(llm.chat_path)) == 2


def test_an_error_raised_by_on_delta_reaches_the_caller_unchanged_and_is_not_retried(llm):
    class SlackUpdateFailed(Exception):
        pass

    def on_delta(piece: str) -> None:
        raise SlackUpdateFailed(piece)

    with pytest.raises(SlackUpdateFailed):
        llm.chat(stream=True, on_delta=on_delta)
    assert len(llm.double.requests_to(llm.chat_path)) == 1


def test_no_prompt_and_no_answer_is_logged_at_info_or_above(llm, caplog):
    caplog.set_level(logging.DEBUG)
    llm.double.reply_text = "The answer mentions hunter2."
    llm.double.fail_next(1)  # the retry warning is logged too

    llm.provider.chat(
        [ChatMessage(role="user", content="my password is hunter2")],
        model=llm.chat_model,
        temperature=0.0,
        stream=True,
    )

    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("llm chat done" in message for message in loud)
    assert not any("hunter2" in message for message in loud)


# --- embeddings ------------------------------------------------------------------------------


def test_embed_returns_one_vector_per_text_from_one_request(llm):
    llm.double.embedding_dimension = 16
    vectors = llm.provider.embed(["disk full on web-1", "certificate expires", "dns"])
    assert [len(v) for v in vectors] == [16, 16, 16]
    assert len(llm.double.requests_to(llm.embed_path)) == 1


def test_embed_gives_the_same_text_the_same_vector(llm):
    first, again, other = llm.provider.embed(["disk full", "disk full", "dns"])
    assert first == again != other


def test_embed_of_no_text_returns_no_vector_and_sends_nothing(llm):
    assert llm.provider.embed([]) == []
    assert llm.double.requests_to(llm.embed_path) == []


def test_embed_is_retried_once_after_a_500(llm):
    llm.double.fail_next(1, status=500, path=llm.embed_path)
    assert len(llm.provider.embed(["a", "b"])) == 2


def test_embeddings_fewer_than_the_texts_raise_llm_response_error(llm):
    llm.double.reply_next(_embed_reply(llm, [[0.1, 0.2]]))
    with pytest.raises(LLMResponseError, match="1 embeddings for 2 texts"):
        llm.provider.embed(["a", "b"])


def test_embeddings_of_unequal_length_raise_llm_response_error(llm):
    llm.double.reply_next(_embed_reply(llm, [[0.1, 0.2], [0.1]]))
    with pytest.raises(LLMResponseError, match="unequal"):
        llm.provider.embed(["a", "b"])


def _embed_reply(llm: LLMUnderTest, vectors: list[list[float]]) -> Reply:
    if isinstance(llm.provider, OllamaProvider):
        return Reply.json({"model": "nomic-embed-text", "embeddings": vectors})
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    return Reply.json({"object": "list", "data": data, "model": "text-embedding-3-small"})


# --- health ----------------------------------------------------------------------------------


def test_health_of_a_running_server_is_reachable_with_its_models(llm):
    health = llm.provider.health()
    assert health.reachable
    assert llm.chat_model in health.models


def test_health_of_a_stopped_server_is_unreachable_and_does_not_raise(llm):
    llm.double.stop()
    health = llm.provider.health(timeout_s=0.5)
    assert not health.reachable
    assert health.models == []
    assert health.detail.startswith(llm.provider.name)


def test_health_gives_up_after_its_own_short_timeout(llm):
    llm.double.delay_next(2.0)
    started = time.monotonic()
    assert not llm.provider.health(timeout_s=0.2).reachable
    assert time.monotonic() - started < 1.5
