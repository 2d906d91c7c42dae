"""The real URLs plus one view that fails, to see the 500 page as people would."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from prap_portal.urls import urlpatterns as portal_urlpatterns


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a fault the page must not show")


urlpatterns = [*portal_urlpatterns, path("fails/", _fails)]
