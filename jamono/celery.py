"""The Celery application. Configuration comes from Django settings (``CELERY_*``)."""

import os
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamono.settings")

CELERY_SETTINGS_PREFIX = "CELERY_"


class DjangoCelerySettings(Mapping):
    """Django's ``CELERY_*`` settings under Celery's own names, read once, on first use.

    Celery reads its configuration on every publish (seven keys per task sent). Reading it
    straight from ``django.conf.settings`` with a namespace costs a dozen failed lookups per key,
    each an exception raised through Django's lazy settings: ~0.2 ms per task sent, on the path
    that acknowledges Slack. A plain dict answers the same keys in microseconds.
    """

    @cached_property
    def _values(self) -> dict[str, Any]:
        from django.conf import settings

        return {
            name.removeprefix(CELERY_SETTINGS_PREFIX).lower(): getattr(settings, name)
            for name in dir(settings)
            if name.startswith(CELERY_SETTINGS_PREFIX)
        }

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


app = Celery("jamono")
app.config_from_object(DjangoCelerySettings())
app.autodiscover_tasks()


@signals.celeryd_init.connect
@signals.beat_init.connect
def _standalone_settings_require(**_kwargs) -> None:
    # A worker or beat without the URLs would retry a broker on localhost forever: stop with
    # the reason instead (`make run` gives them the URLs).
    from jamono import embedded

    embedded.standalone_settings_require("celery")
