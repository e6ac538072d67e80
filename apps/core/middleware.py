from apps.core.views import healthz


class HealthCheckMiddleware:
    """Answers ``/healthz`` before tenant routing, which itself needs the database: a health
    check must report a database outage as 503, not crash with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
