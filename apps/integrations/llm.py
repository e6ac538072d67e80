"""Pick the LLM adapter named by ``settings.LLM_PROVIDER``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.integrations.bases.llm import LLMProvider

LLM_PROVIDER_NAMES = ("ollama", "openai")


def llm_provider_get(name: str | None = None) -> LLMProvider:
    """A new provider for ``name`` (default: ``settings.LLM_PROVIDER``), configured from the
    settings. Only the chosen vendor's SDK is imported."""
    name = (name or settings.LLM_PROVIDER or "").strip().lower()
    if name == "ollama":
        from apps.integrations.ollama.provider import OllamaProvider

        return OllamaProvider()
    if name == "openai":
        from apps.integrations.openai.provider import OpenAIProvider

        return OpenAIProvider()
    raise ImproperlyConfigured(
        f"LLM_PROVIDER={name!r} is not a known LLM provider; use one of: "
        + ", ".join(LLM_PROVIDER_NAMES)
    )
