"""OpenAI (and OpenAI-compatible) adapter of the LLM contract (``apps.integrations.bases.llm``)."""
