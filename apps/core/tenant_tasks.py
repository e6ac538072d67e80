"""Celery tasks that run inside one tenant's schema, and only there.

The schema travels explicitly as the ``schema_name`` keyword of every tenant task: it is
checked when the task is enqueued and again when it runs, the worker's connection is switched
to that schema for the duration of the task, and always put back to ``public`` afterwards, so a
worker process that served tenant A never lends A's search_path to tenant B's next task.

Kept rather than tenant-schemas-celery, which takes the schema implicitly from the publishing
connection's search_path: a task published while the connection happens to be in another
schema would silently run there. Written against Celery 5.7 with its documented extension
points (a ``Task`` base class overriding ``apply_async`` and ``__call__``), plus one internal:
``Task.__header__``, the argument check Celery builds from the task function;
tests/apps/tenants/test_isolation.py fails if it stops rejecting wrong arguments.
"""

from __future__ import annotations

from typing import Any

from celery import Task, current_app, shared_task
from django.db import connection, transaction
from django.utils import translation
from django_tenants.utils import get_tenant_model


class TenantTaskError(RuntimeError):
    """A tenant task was enqueued or run without a valid tenant."""


class TenantTask(Task):
    abstract = True
    # Celery's own signature check would reject ``schema_name``; apply_async checks the
    # task's arguments itself, without it.
    typing = False

    def apply_async(self, args=None, kwargs=None, **options):
        kwargs = dict(kwargs or {})
        schema_name = kwargs.pop("schema_name", None)
        if not schema_name or not isinstance(schema_name, str):
            raise TenantTaskError(f"{self.name} must be enqueued with schema_name=<tenant schema>")
        self.__header__(*(args or ()), **kwargs)
        return super().apply_async(
            args=args, kwargs={**kwargs, "schema_name": schema_name}, **options
        )

    def __call__(self, *args: Any, schema_name: str | None = None, **kwargs: Any) -> Any:
        if not schema_name:
            raise TenantTaskError(f"{self.name} ran without schema_name")
        connection.set_schema_to_public()
        tenant = get_tenant_model().objects.filter(schema_name=schema_name).first()
        if tenant is None:
            raise TenantTaskError(f"{self.name}: no tenant with schema {schema_name!r}")
        connection.set_tenant(tenant)
        try:
            with translation.override(tenant.language):
                return super().__call__(*args, **kwargs)
        finally:
            connection.set_schema_to_public()


def tenant_task(*args: Any, **options: Any):
    """``@tenant_task`` / ``@tenant_task(bind=True, …)``: a shared task bound to one tenant."""
    return shared_task(*args, base=TenantTask, **options)


def enqueue_for_tenant(
    task: TenantTask | str,
    *,
    schema_name: str,
    args: tuple = (),
    kwargs: dict | None = None,
    **options,
) -> None:
    """Enqueue after the current transaction commits, so the worker sees the rows it needs.

    ``task``: the task, or its name. Services name the tasks they enqueue rather than import
    them: tasks import services (they are thin wrappers), never the other way round.

    Robust: a broker outage is logged, not raised into the caller whose data is already
    committed; the periodic sweeps pick up what was stored but never enqueued.
    """
    if not schema_name or not isinstance(schema_name, str):
        raise TenantTaskError(f"{task} must be enqueued with schema_name=<tenant schema>")
    task_kwargs = {**(kwargs or {}), "schema_name": schema_name}

    def publish():
        if isinstance(task, str):
            # By name (Celery's send_task): the web process need not import the task module.
            current_app.send_task(task, args=args, kwargs=task_kwargs, **options)
        else:
            task.apply_async(args=args, kwargs=task_kwargs, **options)

    transaction.on_commit(publish, robust=True)


def enqueue_public(task: str, *, kwargs: dict | None = None, **options) -> None:
    """Enqueue a task of the public schema (no tenant: a sign-up creating one) by name, after
    the current transaction commits; a broker outage is logged, as for tenant tasks."""

    def publish():
        current_app.send_task(task, kwargs=dict(kwargs or {}), **options)

    transaction.on_commit(publish, robust=True)
