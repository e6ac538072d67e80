import pytest
from django.contrib.auth import get_user_model

from tests.factories import SlackWorkspaceFactory


@pytest.fixture
def operator_client(client, db):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-123456")
    client.force_login(user)
    return client


def test_admin_list_and_change_pages_never_show_the_token(operator_client, tenant_a):
    workspace = SlackWorkspaceFactory(tenant=tenant_a)

    listing = operator_client.get("/admin/workspaces/slackworkspace/")
    change = operator_client.get(f"/admin/workspaces/slackworkspace/{workspace.pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert workspace.team_id in listing.content.decode()
    for page in (listing, change):
        assert workspace.bot_token not in page.content.decode()


def test_admin_save_with_blank_token_keeps_the_stored_token(operator_client, tenant_a):
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    token = workspace.bot_token

    response = operator_client.post(
        f"/admin/workspaces/slackworkspace/{workspace.pk}/change/",
        {
            "tenant": tenant_a.pk,
            "team_id": workspace.team_id,
            "team_name": "Renamed",
            "bot_user_id": workspace.bot_user_id,
            "is_active": "on",
            "new_bot_token": "",
        },
    )

    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.team_name == "Renamed"
    assert workspace.bot_token == token
