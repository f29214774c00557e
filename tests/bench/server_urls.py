"""The project's URLs plus /bench/hello/ and /bench/hello-get/: the cheapest POST and GET
the same server can answer, through the same middleware as every page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from union.urls import urlpatterns as project_urlpatterns


@require_POST
def hello(request: HttpRequest) -> HttpResponse:
    # CSRF is checked by the middleware, as for any form post: no exemption.
    return HttpResponse(b"Hello, world\n", content_type="text/plain")


def hello_get(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, world\n", content_type="text/plain")


urlpatterns = [
    path("bench/hello/", hello, name="bench_hello"),
    path("bench/hello-get/", hello_get, name="bench_hello_get"),
    *project_urlpatterns,
]
