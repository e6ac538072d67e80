from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.selectors import broker_status, database_status


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker both answer; 503 naming the part that does not."""
    checks = {"db": database_status(), "broker": broker_status()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
