"""Thin Celery wrappers over the sign-up services (public schema: no tenant yet)."""

from celery import shared_task

from apps.onboarding.services import signup_provision


@shared_task(acks_late=True, ignore_result=True)
def signup_provision_task(signup_id: int) -> None:
    signup_provision(signup_id)
