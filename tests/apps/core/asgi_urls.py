"""Views that show how the ASGI entry point serves requests (tests/apps/core/test_asgi.py)."""

import contextvars

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

marker = contextvars.ContextVar("marker", default="unset")


def marker_set(request):
    marker.set("set by an earlier request")
    return HttpResponse("ok")


def marker_read(request):
    return HttpResponse(marker.get())


def streamed(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    def parts():
        # Produced after the view returned, while the response is being sent.
        for number in range(3):
            yield f"part {number};".encode()

    return StreamingHttpResponse(parts())


urlpatterns = [
    path("slack/test/marker-set", marker_set),
    path("slack/test/marker-read", marker_read),
    path("slack/test/streamed", streamed),
]
