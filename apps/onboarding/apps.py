from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """The public site: the landing page, and a company signing up (its tenant created in the
    background while the person watches the progress)."""

    name = "apps.onboarding"
    label = "onboarding"
    verbose_name = "Onboarding"
