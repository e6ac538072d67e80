"""Invitations: an owner or admin invites an address with a role; the e-mailed link (its token
kept only hashed) lets the person choose a name and password once, within 7 days, and logs
them in with that role. Anything else is a clear refusal, never a 500."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Invite, Role
from apps.accounts.selectors import role_of
from tests.apps.accounts.conftest import browser_of, host_of, link_in, logged_in, person_make

INVITE_LINK = r"http://[^\s/]+/invite/[A-Za-z0-9_-]+/"
JOINING = {"name": "Noor Haddad", "password1": "lantern orbit 7 cactus", "password2": ""}
JOINING["password2"] = JOINING["password1"]


@pytest.fixture
def owner(tenant_a):
    return person_make(tenant_a, "olga@a.test", role=Role.OWNER)


@pytest.fixture
def owner_browser(client, tenant_a, owner):
    return browser_of(client, tenant_a, owner)


def _invite(client, email="noor@a.test", role=Role.ADMIN):
    return client.post("/team/invite/", {"email": email, "role": role})


def _invites(tenant) -> list[Invite]:
    with schema_context(tenant.schema_name):
        return list(Invite.objects.order_by("pk"))


def _user(tenant, username):
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.filter(username=username).first()
        return user, role_of(user)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_an_invited_person_joins_with_the_role_and_is_logged_in(
    owner_browser, tenant_a, mailoutbox, client
):
    response = _invite(owner_browser)
    assert response.status_code == 302 and response["Location"] == "/team/"
    assert "noor@a.test is invited." in owner_browser.get("/team/").content.decode()
    link = link_in(mailoutbox[0], INVITE_LINK)
    assert link.startswith(f"http://{host_of(tenant_a)}/invite/")
    assert mailoutbox[0].to == ["noor@a.test"] and "Company A" in mailoutbox[0].subject

    owner_browser.post("/logout/")
    page = client.get(_path(link))
    joined = client.post(_path(link), JOINING)

    assert page.status_code == 200 and "noor@a.test" in page.content.decode()
    assert joined.status_code == 302 and joined["Location"] == "/"
    assert logged_in(client)
    user, role = _user(tenant_a, "noor@a.test")
    assert role == Role.ADMIN and user.get_full_name() == "Noor Haddad"
    assert user.check_password(JOINING["password1"]) and user.email == "noor@a.test"
    assert _invites(tenant_a)[0].accepted_at is not None
    assert client.get("/agents/").status_code == 200


def test_only_the_tokens_hash_is_stored(owner_browser, tenant_a, mailoutbox):
    _invite(owner_browser)
    token = link_in(mailoutbox[0], INVITE_LINK).rstrip("/").rsplit("/", 1)[1]

    (invite,) = _invites(tenant_a)

    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(vars(invite))
    assert invite.expires_at - invite.created_at == timedelta(days=7)


def test_a_used_invitation_is_refused_with_a_410(owner_browser, tenant_a, mailoutbox, client):
    _invite(owner_browser)
    path = _path(link_in(mailoutbox[0], INVITE_LINK))
    owner_browser.post("/logout/")
    client.post(path, JOINING)
    client.post("/logout/")

    again = client.post(path, {**JOINING, "name": "Someone else"})

    assert again.status_code == 410
    assert "accepted already" in again.content.decode()
    assert _user(tenant_a, "noor@a.test")[0].get_full_name() == "Noor Haddad"


def test_an_expired_invitation_is_refused_with_a_410(owner_browser, tenant_a, mailoutbox):
    _invite(owner_browser)
    path = _path(link_in(mailoutbox[0], INVITE_LINK))
    with schema_context(tenant_a.schema_name):
        Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = owner_browser.get(path)
    joined = owner_browser.post(path, JOINING)

    assert page.status_code == 410 and joined.status_code == 410
    assert "expired" in page.content.decode()
    assert _user(tenant_a, "noor@a.test")[0] is None


@pytest.mark.parametrize("token", ["forged", "x" * 43, "a" * 5000])
def test_a_forged_token_is_a_404(client, tenant_a, owner, token):
    page = client.get(f"/invite/{token}/", HTTP_HOST=host_of(tenant_a))
    joined = client.post(f"/invite/{token}/", JOINING, HTTP_HOST=host_of(tenant_a))

    assert page.status_code == 404 and joined.status_code == 404
    assert "This link is unknown here" in page.content.decode()


def test_an_invitation_of_one_company_is_unknown_on_another(
    owner_browser, tenant_a, tenant_b, mailoutbox, client
):
    _invite(owner_browser)
    path = _path(link_in(mailoutbox[0], INVITE_LINK))

    joined = client.post(path, JOINING, HTTP_HOST=host_of(tenant_b))

    assert joined.status_code == 404
    assert _user(tenant_b, "noor@a.test")[0] is None
    assert _invites(tenant_a)[0].accepted_at is None


def test_a_bad_password_is_a_400_that_says_why(owner_browser, tenant_a, mailoutbox):
    _invite(owner_browser)
    path = _path(link_in(mailoutbox[0], INVITE_LINK))

    short = owner_browser.post(path, {**JOINING, "password1": "abc", "password2": "abc"})
    differ = owner_browser.post(path, {**JOINING, "password2": "something else 99"})

    assert short.status_code == 400 and "too short" in short.content.decode()
    assert differ.status_code == 400 and "The two passwords differ." in differ.content.decode()
    assert _user(tenant_a, "noor@a.test")[0] is None


def test_inviting_someone_who_has_an_account_is_a_form_error(owner_browser, tenant_a, mailoutbox):
    person_make(tenant_a, "mia@a.test")

    response = _invite(owner_browser, email="MIA@a.test")

    assert response.status_code == 400
    assert "mia@a.test already has an account here." in response.content.decode()
    assert mailoutbox == [] and _invites(tenant_a) == []


def test_a_bad_address_is_a_400(owner_browser, tenant_a):
    response = _invite(owner_browser, email="not an address")

    assert response.status_code == 400 and "errorlist" in response.content.decode()


def test_inviting_again_replaces_the_pending_invitation(owner_browser, tenant_a, mailoutbox):
    _invite(owner_browser, role=Role.ADMIN)
    first = _path(link_in(mailoutbox[0], INVITE_LINK))

    _invite(owner_browser, role=Role.MEMBER)

    (invite,) = _invites(tenant_a)
    assert invite.role == Role.MEMBER
    assert owner_browser.get(first).status_code == 404
    assert owner_browser.get(_path(link_in(mailoutbox[1], INVITE_LINK))).status_code == 200


def test_an_admin_invites_but_not_an_owner(client, tenant_a, mailoutbox):
    admin = person_make(tenant_a, "adam@a.test", role=Role.ADMIN)
    client = browser_of(client, tenant_a, admin)

    as_owner = _invite(client, email="boss@a.test", role=Role.OWNER)
    as_member = _invite(client, email="mia@a.test", role=Role.MEMBER)

    assert as_owner.status_code == 400
    assert as_member.status_code == 302
    assert [invite.email for invite in _invites(tenant_a)] == ["mia@a.test"]


def test_a_member_cannot_invite(client, tenant_a, mailoutbox):
    member = person_make(tenant_a, "mia@a.test", role=Role.MEMBER)
    client = browser_of(client, tenant_a, member)

    page = client.get("/team/")
    response = _invite(client)

    assert 'action="/team/invite/"' not in page.content.decode()
    assert response.status_code == 403
    assert mailoutbox == [] and _invites(tenant_a) == []


def test_an_invitation_that_cannot_be_mailed_is_not_kept(owner_browser, tenant_a, settings):
    # An SMTP server that refuses connections (nothing listens on port 9 of localhost).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False

    response = _invite(owner_browser)

    assert response.status_code == 503
    assert "could not be sent" in response.content.decode()
    assert _invites(tenant_a) == []
