"""Pytest fixtures for the Ollama and OpenAI protocol doubles."""
