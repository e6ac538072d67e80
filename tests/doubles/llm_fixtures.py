"""Pytest fixtures for the Ollama and OpenAI protocol doubles."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from apps.integrations.bases.llm import tool_support_forget
from tests.doubles.ollama import OllamaDouble
from tests.doubles.openai import OpenAIDouble


@pytest.fixture(autouse=True)
def _llm_retry_without_backoff(settings) -> None:
    """The one retry of a transient LLM failure happens at once in tests (0.5 s otherwise)."""
    settings.LLM_RETRY_BACKOFF_S = 0.0


@pytest.fixture(autouse=True)
def _llm_tool_support_forgotten() -> Iterator[None]:
    """Each test asks ``/api/show`` afresh: what one test's double said of a model is not
    remembered into the next (the cache is per process)."""
    tool_support_forget()
    yield
    tool_support_forget()


@pytest.fixture
def ollama_double(settings) -> Iterator[OllamaDouble]:
    """A fresh Ollama double for one test; ``settings.OLLAMA_HOST`` points at it."""
    double = OllamaDouble().start()
    settings.OLLAMA_HOST = double.url
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def openai_double(settings) -> Iterator[OpenAIDouble]:
    """A fresh OpenAI double for one test, selected as the LLM provider with a valid key and
    an OpenAI embedding model."""
    double = OpenAIDouble().start()
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = f"{double.url}/v1"
    settings.OPENAI_API_KEY = double.api_key
    settings.LLM_EMBEDDING_MODEL = "text-embedding-3-small"
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
