"""Ollama adapter of the LLM contract (``apps.integrations.bases.llm``)."""
