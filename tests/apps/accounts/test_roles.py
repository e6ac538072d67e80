"""Roles are Django groups with permission sets, made in every company's schema by its
migrations: owners are superusers, admins may change everything of the product, members
read it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.accounts.selectors import product_app_labels, role_of
from apps.accounts.services import role_assign
from apps.onboarding.services import signup_provision, signup_start
from tests.apps.accounts.conftest import person_make

PRODUCT_APPS = {
    "accounts",
    "agents",
    "conversations",
    "tools",
    "knowledge",
    "jira_integration",
    "votes",
    "api",
}


def _codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_product_apps_are_read_from_the_installed_tenant_apps():
    assert set(product_app_labels()) == PRODUCT_APPS


def test_a_new_company_has_the_admin_and_member_roles_from_its_migrations(tenant_a):
    with schema_context(tenant_a.schema_name):
        admin, member = _codenames("admin"), _codenames("member")
        product = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.filter(
                content_type__app_label__in=PRODUCT_APPS
            ).values_list("content_type__app_label", "codename")
        }

    assert admin == product
    assert {"agents.change_agent", "knowledge.delete_document", "accounts.add_invite"} <= admin
    assert member == {name for name in product if name.split(".")[1].startswith("view_")}
    assert "agents.view_agent" in member and "agents.change_agent" not in member


def test_no_role_but_the_owner_touches_users_sessions_or_login_attempts(tenant_a):
    with schema_context(tenant_a.schema_name):
        granted = _codenames("admin") | _codenames("member")

    assert not {name for name in granted if name.split(".")[0] in {"auth", "axes", "sessions"}}


def test_each_role_gives_what_it_says(tenant_a):
    owner = person_make(tenant_a, "olga@a.test", role=Role.OWNER)
    admin = person_make(tenant_a, "adam@a.test", role=Role.ADMIN)
    member = person_make(tenant_a, "mia@a.test", role=Role.MEMBER)

    with schema_context(tenant_a.schema_name):
        users = get_user_model().objects
        owner, admin, member = (users.get(pk=person.pk) for person in (owner, admin, member))
        assert [role_of(person) for person in (owner, admin, member)] == list(Role)
        assert all(person.is_staff for person in (owner, admin, member))
        assert owner.is_superuser and owner.has_perm("auth.change_user")
        assert admin.has_perm("agents.change_agent") and admin.has_perm("accounts.add_invite")
        assert not admin.has_perm("auth.change_user")
        assert member.has_perm("agents.view_agent")
        assert not member.has_perm("agents.change_agent")
        assert not member.has_perm("accounts.add_invite")


def test_a_new_role_replaces_the_old_one(tenant_a):
    person = person_make(tenant_a, "adam@a.test", role=Role.OWNER)

    with schema_context(tenant_a.schema_name):
        role_assign(person, Role.MEMBER)
        person = get_user_model().objects.get(pk=person.pk)

        assert role_of(person) == Role.MEMBER
        assert not person.is_superuser
        assert list(person.groups.values_list("name", flat=True)) == ["member"]


def test_the_person_who_signs_a_company_up_is_its_owner(db):
    signup = signup_start(
        company_name="Owner Check", admin_email="ana@owner.test", password="s3cure-Pass-9!",
        language="en",
    )  # fmt: skip

    signup_provision(signup.pk)

    with schema_context(signup.schema_name):
        assert role_of(get_user_model().objects.get(username="ana@owner.test")) == Role.OWNER


def test_a_superuser_made_by_create_tenant_superuser_is_an_owner(tenant_a):
    call_command(
        "create_tenant_superuser", schema_name=tenant_a.schema_name, username="root",
        email="root@a.test", interactive=False, verbosity=0,
    )  # fmt: skip

    with schema_context(tenant_a.schema_name):
        assert role_of(get_user_model().objects.get(username="root")) == Role.OWNER
