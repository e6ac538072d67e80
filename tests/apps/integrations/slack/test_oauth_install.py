""" "Add to Slack" (OAuth v2): the install link, Slack's redirect, and every way it is refused.

The real slack_sdk talks to the Slack double; the browser is Django's test client (it keeps
cookies, like a browser)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.integrations.slack.install import INSTALL_INVITE_SALT, slack_install_invite_create
from apps.integrations.slack.install_views import INSTALL_STATE_COOKIE
from apps.integrations.slack.models import SlackInstallState, SlackWorkspace
from apps.integrations.slack.services import slack_workspace_connect
from tests.factories import slack_token

INSTALL_URL = "/slack/install"
REDIRECT_URL = "/slack/oauth_redirect"


@pytest.fixture
def slack_app(settings, slack_double):
    """The Slack app's OAuth settings point at the double."""
    settings.SLACK_CLIENT_ID = slack_double.client_id
    settings.SLACK_CLIENT_SECRET = slack_double.client_secret
    settings.SLACK_OAUTH_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
    settings.SLACK_OAUTH_REDIRECT_URL = ""
    settings.SLACK_BOT_SCOPES = ["app_mentions:read", "chat:write", "commands"]
    return slack_double


def _install_start(client: Client, tenant) -> str:
    """Open the tenant's install link as its admin would; the OAuth state Slack will get."""
    invite = slack_install_invite_create(schema_name=tenant.schema_name)
    page = client.get(INSTALL_URL, {"invite": invite})
    assert page.status_code == 200
    return parse_qs(urlsplit(page.context["authorize_url"]).query)["state"][0]


def _raw_token_column(team_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bot_token FROM public.workspaces_slackworkspace WHERE team_id = %s", [team_id]
        )
        return cursor.fetchone()[0]


def test_the_install_page_links_to_slack_with_scopes_state_and_redirect_uri(
    client, slack_app, tenant_a
):
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)

    page = client.get(INSTALL_URL, {"invite": invite})

    assert page.status_code == 200
    authorize_url = urlsplit(page.context["authorize_url"])
    query = parse_qs(authorize_url.query)
    assert f"{authorize_url.scheme}://{authorize_url.netloc}{authorize_url.path}" == (
        "https://slack.com/oauth/v2/authorize"
    )
    assert query["client_id"] == [slack_app.client_id]
    assert query["scope"] == ["app_mentions:read,chat:write,commands"]
    assert query["redirect_uri"] == ["http://testserver/slack/oauth_redirect"]
    assert tenant_a.name in page.content.decode()
    cookie = page.cookies[INSTALL_STATE_COOKIE]
    assert cookie.value == query["state"][0]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_only_a_hash_of_the_state_is_stored(client, slack_app, tenant_a):
    state = _install_start(client, tenant_a)

    stored = SlackInstallState.objects.get(tenant=tenant_a)
    assert stored.state_hash != state and state not in stored.state_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)


def test_a_completed_install_stores_the_encrypted_token_for_the_invited_tenant(
    client, slack_app, tenant_a, tenant_b, caplog
):
    install = slack_app.add_oauth_code(
        "code-ok", team_id="T0ACME0001", team_name="Acme Slack", app_id="A0JAMONO9"
    )
    state = _install_start(client, tenant_a)

    with caplog.at_level(logging.DEBUG):
        page = client.get(REDIRECT_URL, {"code": "code-ok", "state": state})

    assert page.status_code == 200
    workspace = SlackWorkspace.objects.get(team_id="T0ACME0001")
    assert workspace.tenant == tenant_a
    assert workspace.bot_token == install["access_token"]
    assert workspace.bot_user_id == install["bot_user_id"]
    assert workspace.team_name == "Acme Slack"
    assert workspace.app_id == "A0JAMONO9"
    assert workspace.scopes == install["scope"]
    assert install["access_token"] not in _raw_token_column("T0ACME0001")
    text = page.content.decode()
    assert "Acme Slack" in text and tenant_a.name in text
    assert install["access_token"] not in text
    assert install["access_token"] not in caplog.text
    (exchange,) = slack_app.calls("oauth.v2.access")
    assert exchange["code"] == "code-ok"
    assert exchange["redirect_uri"] == "http://testserver/slack/oauth_redirect"
    assert not SlackWorkspace.objects.filter(tenant=tenant_b).exists()


def test_the_redirect_uri_setting_is_used_for_authorize_and_exchange(
    client, settings, slack_app, tenant_a
):
    settings.SLACK_OAUTH_REDIRECT_URL = "https://jamono.example.com/slack/oauth_redirect"
    slack_app.add_oauth_code("code-ok", redirect_uri=settings.SLACK_OAUTH_REDIRECT_URL)
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)
    page = client.get(INSTALL_URL, {"invite": invite})
    query = parse_qs(urlsplit(page.context["authorize_url"]).query)

    done = client.get(REDIRECT_URL, {"code": "code-ok", "state": query["state"][0]})

    assert query["redirect_uri"] == [settings.SLACK_OAUTH_REDIRECT_URL]
    assert done.status_code == 200


def test_reinstalling_into_the_same_tenant_updates_the_credentials(client, slack_app, tenant_a):
    slack_workspace_connect(
        schema_name=tenant_a.schema_name,
        team_id="T0ACME0001",
        bot_token=slack_token(),
        bot_user_id="U0OLDBOT01",
    )
    install = slack_app.add_oauth_code("code-ok", team_id="T0ACME0001")
    state = _install_start(client, tenant_a)

    page = client.get(REDIRECT_URL, {"code": "code-ok", "state": state})

    assert page.status_code == 200
    workspace = SlackWorkspace.objects.get(team_id="T0ACME0001")
    assert workspace.bot_token == install["access_token"]
    assert workspace.bot_user_id == install["bot_user_id"]


def test_a_state_is_refused_the_second_time(client, slack_app, tenant_a):
    slack_app.add_oauth_code("code-1", team_id="T0ACME0001")
    slack_app.add_oauth_code("code-2", team_id="T0OTHER001")
    state = _install_start(client, tenant_a)
    client.get(REDIRECT_URL, {"code": "code-1", "state": state})
    client.cookies[INSTALL_STATE_COOKIE] = state  # even a browser that kept the cookie

    replay = client.get(REDIRECT_URL, {"code": "code-2", "state": state})

    assert replay.status_code == 403
    assert not SlackWorkspace.objects.filter(team_id="T0OTHER001").exists()
    assert len(slack_app.calls("oauth.v2.access")) == 1


def test_a_state_without_this_browsers_cookie_is_refused(client, slack_app, tenant_a):
    slack_app.add_oauth_code("code-ok")
    state = _install_start(client, tenant_a)

    other_browser = Client().get(REDIRECT_URL, {"code": "code-ok", "state": state})

    assert other_browser.status_code == 403
    assert slack_app.calls("oauth.v2.access") == []
    assert not SlackWorkspace.objects.exists()


def test_a_state_with_another_installs_cookie_is_refused(client, slack_app, tenant_a, tenant_b):
    slack_app.add_oauth_code("code-ok")
    victim_state = _install_start(client, tenant_a)
    attacker = Client()
    attacker_state = _install_start(attacker, tenant_b)

    # The attacker's Slack redirect, opened in the victim's browser (login CSRF).
    forced = client.get(REDIRECT_URL, {"code": "code-ok", "state": attacker_state})

    assert forced.status_code == 403
    assert not SlackWorkspace.objects.exists()
    # The refusal used up nothing: the victim's own install still completes.
    client.cookies[INSTALL_STATE_COOKIE] = victim_state
    assert client.get(REDIRECT_URL, {"code": "code-ok", "state": victim_state}).status_code == 200
    assert SlackWorkspace.objects.get().tenant == tenant_a


def test_an_expired_state_is_refused(client, slack_app, tenant_a):
    slack_app.add_oauth_code("code-ok")
    state = _install_start(client, tenant_a)
    SlackInstallState.objects.filter(tenant=tenant_a).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    page = client.get(REDIRECT_URL, {"code": "code-ok", "state": state})

    assert page.status_code == 403
    assert slack_app.calls("oauth.v2.access") == []
    assert not SlackWorkspace.objects.exists()


def test_an_unknown_state_is_refused(client, slack_app, tenant_a):
    client.cookies[INSTALL_STATE_COOKIE] = "made-up-state"

    page = client.get(REDIRECT_URL, {"code": "code-ok", "state": "made-up-state"})

    assert page.status_code == 403


def test_a_forged_invite_is_refused(client, slack_app, tenant_a):
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)
    forged = invite[:-3] + ("aaa" if not invite.endswith("aaa") else "bbb")

    page = client.get(INSTALL_URL, {"invite": forged})

    assert page.status_code == 403
    assert INSTALL_STATE_COOKIE not in page.cookies
    assert not SlackInstallState.objects.exists()


def test_an_invite_older_than_a_day_is_refused(client, slack_app, tenant_a):
    class TwoDaysAgoSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 2 * 24 * 3600)

    old_invite = TwoDaysAgoSigner(salt=INSTALL_INVITE_SALT).sign_object(
        {"schema": tenant_a.schema_name}
    )

    page = client.get(INSTALL_URL, {"invite": old_invite})

    assert page.status_code == 403
    assert not SlackInstallState.objects.exists()


def test_the_install_page_without_an_invite_is_refused_to_anonymous_users(
    client, slack_app, tenant_a
):
    page = client.get(INSTALL_URL, {"tenant": tenant_a.schema_name})

    assert page.status_code == 403


def test_a_staff_user_can_start_an_install_for_any_tenant_without_invite(
    client, slack_app, tenant_a
):
    staff = get_user_model().objects.create_user("operator", password="pw-123456", is_staff=True)
    client.force_login(staff)

    page = client.get(INSTALL_URL, {"tenant": tenant_a.schema_name})

    assert page.status_code == 200
    assert SlackInstallState.objects.get().tenant == tenant_a


def test_a_non_staff_user_cannot_start_an_install_without_invite(client, slack_app, tenant_a):
    client.force_login(get_user_model().objects.create_user("someone", password="pw-123456"))

    page = client.get(INSTALL_URL, {"tenant": tenant_a.schema_name})

    assert page.status_code == 403


def test_cancelling_on_slack_shows_a_friendly_page_and_uses_up_the_state(
    client, slack_app, tenant_a
):
    slack_app.add_oauth_code("code-ok")
    state = _install_start(client, tenant_a)

    page = client.get(REDIRECT_URL, {"error": "access_denied", "state": state})

    assert page.status_code == 200
    assert "Installation cancelled" in page.content.decode()
    assert not SlackWorkspace.objects.exists()
    client.cookies[INSTALL_STATE_COOKIE] = state
    assert client.get(REDIRECT_URL, {"code": "code-ok", "state": state}).status_code == 403


def test_a_code_slack_does_not_know_is_reported_and_nothing_is_stored(client, slack_app, tenant_a):
    state = _install_start(client, tenant_a)

    page = client.get(REDIRECT_URL, {"code": "never-issued", "state": state})

    assert page.status_code == 400
    assert "invalid_code" in page.content.decode()
    assert not SlackWorkspace.objects.exists()


def test_a_reply_that_is_not_a_bot_install_is_refused(client, slack_app, tenant_a):
    slack_app.add_oauth_code(
        "code-user",
        response={
            "ok": True,
            "access_token": "xoxp-1-2-3-userToken",
            "token_type": "user",
            "team": {"id": "T0ACME0001", "name": "Acme"},
        },
    )
    state = _install_start(client, tenant_a)

    page = client.get(REDIRECT_URL, {"code": "code-user", "state": state})

    assert page.status_code == 502
    assert "xoxp-1-2-3-userToken" not in page.content.decode()
    assert not SlackWorkspace.objects.exists()


def test_a_team_bound_to_another_tenant_is_refused_with_409_and_nothing_changes(
    client, slack_app, tenant_a, tenant_b
):
    original_token = slack_token()
    slack_workspace_connect(
        schema_name=tenant_b.schema_name,
        team_id="T0ACME0001",
        bot_token=original_token,
        bot_user_id="U0BBOT0001",
    )
    install = slack_app.add_oauth_code("code-ok", team_id="T0ACME0001")
    state = _install_start(client, tenant_a)

    page = client.get(REDIRECT_URL, {"code": "code-ok", "state": state})

    assert page.status_code == 409
    assert "already connected" in page.content.decode()
    assert install["access_token"] not in page.content.decode()
    workspace = SlackWorkspace.objects.get(team_id="T0ACME0001")
    assert workspace.tenant == tenant_b
    assert workspace.bot_token == original_token
    assert workspace.bot_user_id == "U0BBOT0001"


@pytest.mark.parametrize("missing", ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"])
def test_missing_client_settings_answer_503_naming_the_setting(
    client, settings, slack_app, tenant_a, missing
):
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)
    setattr(settings, missing, "")

    install = client.get(INSTALL_URL, {"invite": invite})
    redirect = client.get(REDIRECT_URL, {"code": "x", "state": "y"})

    for page in (install, redirect):
        assert page.status_code == 503
        assert missing in page.content.decode()
    assert not SlackInstallState.objects.exists()


def test_slack_install_link_prints_a_working_link(client, slack_app, tenant_a):
    out = StringIO()

    call_command(
        "slack_install_link", tenant_a.schema_name, "--base-url", "https://jamono.example.com/",
        stdout=out,
    )  # fmt: skip

    link = urlsplit(out.getvalue().strip())
    assert (link.scheme, link.netloc, link.path) == ("https", "jamono.example.com", INSTALL_URL)
    assert client.get(f"{link.path}?{link.query}").status_code == 200


def test_slack_install_link_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("slack_install_link", "no_such_tenant")


def test_a_used_invite_is_refused_the_second_time(client, slack_app, tenant_a):
    slack_app.add_oauth_code("code-first", team_id="T0FIRST001")
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)
    page = client.get(INSTALL_URL, {"invite": invite})
    state = parse_qs(urlsplit(page.context["authorize_url"]).query)["state"][0]
    assert client.get(REDIRECT_URL, {"code": "code-first", "state": state}).status_code == 200

    again = client.get(INSTALL_URL, {"invite": invite})

    assert again.status_code == 403
    assert "already used" in again.content.decode()
    assert invite not in again.content.decode()


def test_two_installs_started_from_one_invite_bind_only_one_workspace(client, slack_app, tenant_a):
    slack_app.add_oauth_code("code-one", team_id="T0FIRST001")
    slack_app.add_oauth_code("code-two", team_id="T0SECOND01")
    invite = slack_install_invite_create(schema_name=tenant_a.schema_name)
    states = []
    for _ in range(2):  # both opened before either finished (two tabs, or a shared link)
        browser = Client()
        page = browser.get(INSTALL_URL, {"invite": invite})
        states.append((browser, parse_qs(urlsplit(page.context["authorize_url"]).query)))

    finished = [
        browser.get(REDIRECT_URL, {"code": code, "state": query["state"][0]})
        for (browser, query), code in zip(states, ("code-one", "code-two"), strict=True)
    ]

    assert [page.status_code for page in finished] == [200, 403]
    assert list(SlackWorkspace.objects.values_list("team_id", flat=True)) == ["T0FIRST001"]
