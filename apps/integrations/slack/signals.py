from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.integrations.slack.models import SlackWorkspace
from apps.integrations.slack.selectors import slack_team_route_cache_clear
from apps.tenants.models import Tenant


@receiver(post_save, sender=SlackWorkspace)
@receiver(post_delete, sender=SlackWorkspace)
@receiver(post_save, sender=Tenant)
@receiver(post_delete, sender=Tenant)
def slack_route_cache_forget(**kwargs) -> None:
    """A workspace or its tenant changed in this process: route the next request afresh."""
    slack_team_route_cache_clear()
