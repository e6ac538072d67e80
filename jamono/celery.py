"""The Celery application. Configuration comes from Django settings (``CELERY_*``), read the
way Celery documents for Django (``namespace="CELERY"``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamono.settings")

app = Celery("jamono")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
@signals.beat_init.connect
def _standalone_settings_require(**_kwargs) -> None:
    # A worker or beat without the URLs would retry a broker on localhost forever: stop with
    # the reason instead (`make run` gives them the URLs).
    from jamono import embedded

    embedded.standalone_settings_require("celery")
