from __future__ import annotations

import uuid

from apps.onboarding.models import Signup


def signup_by_token(token: uuid.UUID) -> Signup | None:
    return Signup.objects.filter(token=token).first()
