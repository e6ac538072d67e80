from django.apps import AppConfig


class VotesConfig(AppConfig):
    """Approvals: a risky tool call waits for the people the tenant named to vote on it."""

    name = "apps.votes"
    label = "votes"
    verbose_name = "Approvals and votes"
