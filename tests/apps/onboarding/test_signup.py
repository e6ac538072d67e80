"""The public site: the landing page, signing up (checked at the edge, a 400 that says what to
fix), the tenant created by the worker's service with its first admin, and the progress a
person watches meanwhile."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import get_tenant_model, schema_context

from apps.onboarding.models import Signup
from apps.onboarding.services import schema_name_for, signup_provision, signup_start

PUBLIC = {"HTTP_HOST": "localhost"}
GOOD = {"company_name": "Acme Corp.", "admin_email": "Ana@Acme.test", "password": "s3cure-Pass-9!"}


@pytest.mark.django_db
def test_the_landing_page_says_what_jamono_is_and_links_to_sign_up(client):
    page = client.get("/", **PUBLIC)

    assert page.status_code == 200
    text = page.content.decode()
    assert "NOX" in text and "ATLAS" in text and "CIRRUS" in text
    assert 'href="/signup/"' in text


@pytest.mark.django_db
def test_the_landing_page_speaks_french(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr", **PUBLIC)

    text = page.content.decode()
    assert 'lang="fr"' in text
    assert "Créer l’espace de votre entreprise" in text
    for english in ("AI colleagues", "Sign up", "The agents", "Change language", "self-host"):
        assert english not in text, english


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("admin_email", "not-an-email", "Enter a valid email address."),
        ("password", "short", "This password is too short."),
        ("company_name", "  ", "This field is required."),
        ("company_name", "!!!", "Give your company’s name, with letters or digits."),
    ],
)
def test_a_bad_sign_up_is_a_400_that_says_what_to_fix_and_creates_nothing(
    client, field, value, message
):
    response = client.post("/signup/", {**GOOD, field: value}, **PUBLIC)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Signup.objects.exists()


@pytest.mark.django_db
def test_a_good_sign_up_is_stored_with_a_hashed_password_and_shows_its_progress(client):
    response = client.post("/signup/", GOOD, **PUBLIC)

    signup = Signup.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/signup/{signup.token}/"
    assert (signup.company_name, signup.schema_name, signup.admin_email) == (
        "Acme Corp.",
        "acme_corp",
        "ana@acme.test",
    )
    assert GOOD["password"] not in signup.password_hash and signup.password_hash.startswith("md5")
    page = client.get(response["Location"], **PUBLIC)
    assert page.status_code == 200
    assert f'hx-get="/signup/{signup.token}/status/"' in page.content.decode()


def test_the_worker_creates_the_tenant_and_its_admin_and_the_page_then_links_to_it(
    client, transactional_db
):
    signup = signup_start(
        company_name="Globex", admin_email="hank@globex.test", password=GOOD["password"],
        language="fr",
    )  # fmt: skip

    done = signup_provision(signup.pk)

    assert done.status == Signup.Status.READY and done.progress == 100
    assert done.password_hash == ""  # the account holds it now
    tenant = get_tenant_model().objects.get(schema_name="globex")
    assert (tenant.name, tenant.language) == ("Globex", "fr")
    with schema_context("globex"):
        admin = get_user_model().objects.get(username="hank@globex.test")
        assert admin.is_superuser and admin.check_password(GOOD["password"])
    status = client.get(f"/signup/{signup.token}/status/", HTTP_HOST="localhost:8123")
    text = status.content.decode()
    assert "hx-get" not in text  # no more polling
    assert 'href="http://globex.localhost:8123/setup/"' in text
    assert signup_provision(signup.pk).status == Signup.Status.READY  # idempotent


def test_a_failed_creation_is_shown_and_kept(client, transactional_db):
    signup = signup_start(
        company_name="Initech", admin_email="bill@initech.test", password=GOOD["password"],
        language="en",
    )  # fmt: skip
    Signup.objects.filter(pk=signup.pk).update(schema_name="Not A Schema")

    failed = signup_provision(signup.pk)

    assert failed.status == Signup.Status.FAILED and failed.error
    text = client.get(f"/signup/{signup.token}/status/", **PUBLIC).content.decode()
    assert "could not be created" in text and "hx-get" not in text


@pytest.mark.django_db
def test_schema_names_are_free_safe_and_readable(tenant_a):
    Signup.objects.create(
        company_name="Acme", schema_name="acme", admin_email="a@acme.test",
        language="en", status=Signup.Status.READY,
    )  # fmt: skip

    assert schema_name_for("Acme") == "acme_2"
    assert schema_name_for("Société Générale") == "societe_generale"
    assert schema_name_for("3M") == "c_3m"
    assert schema_name_for("Public") == "public_2"
    assert schema_name_for(tenant_a.name) != tenant_a.schema_name


@pytest.mark.django_db
def test_an_unknown_sign_up_token_is_a_404(client):
    response = client.get("/signup/00000000-0000-0000-0000-000000000000/status/", **PUBLIC)

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_tenant_host_root_asks_a_visitor_to_log_in(client, tenant_a):
    response = client.get("/", HTTP_HOST=tenant_a.get_primary_domain().domain)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_sign_up_can_be_closed_by_the_operator(client, settings):
    settings.SIGNUP_OPEN = False

    page = client.get("/signup/", **PUBLIC)
    posted = client.post("/signup/", GOOD, **PUBLIC)

    assert page.status_code == posted.status_code == 403
    assert "Sign-up is closed" in page.content.decode()
    assert not Signup.objects.exists()


@pytest.mark.django_db
def test_one_address_cannot_create_workspaces_without_end(client, settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    statuses = [
        client.post("/signup/", {**GOOD, "company_name": f"Spam {n}"}, **PUBLIC).status_code
        for n in range(4)
    ]

    assert statuses == [302, 302, 429, 429]
    assert Signup.objects.count() == 2
