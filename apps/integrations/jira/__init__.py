"""Jira behind the ticketing contract (apps.integrations.bases.ticketing)."""
