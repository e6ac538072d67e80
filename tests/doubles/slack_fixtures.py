"""Pytest fixtures for the Slack Web API protocol double."""
