from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from jamono.urls_public import urlpatterns as product_urlpatterns


@csrf_exempt
def bare(request):
    """The baseline: a Django view that does nothing but answer 200."""
    return HttpResponse(status=200)


urlpatterns = [path("bench/bare", bare), *product_urlpatterns]
