"""Install states that can never be used again are purged daily; operators can read them."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.integrations.slack.install import slack_install_state_create, slack_install_states_purge
from apps.integrations.slack.models import SlackInstallState
from apps.integrations.slack.tasks import slack_install_states_purge_task


def test_states_expired_over_a_day_ago_are_purged_recent_ones_kept(tenant_a):
    slack_install_state_create(tenant=tenant_a)
    slack_install_state_create(tenant=tenant_a)
    old, recent = SlackInstallState.objects.order_by("pk")
    old.expires_at = timezone.now() - timedelta(days=2)
    old.save()

    assert slack_install_states_purge() == 1
    assert list(SlackInstallState.objects.all()) == [recent]
    assert slack_install_states_purge_task.apply().get() == 0


def test_the_admin_lists_install_states_read_only(client, tenant_a):
    slack_install_state_create(tenant=tenant_a)
    admin = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    client.force_login(admin)

    listing = client.get("/admin/workspaces/slackinstallstate/")
    adding = client.get("/admin/workspaces/slackinstallstate/add/")

    assert listing.status_code == 200
    assert tenant_a.name in listing.content.decode()
    assert adding.status_code == 403
