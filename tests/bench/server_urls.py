"""The project's URLs plus /bench/hello/: the cheapest POST the same server can answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from union.urls import urlpatterns as project_urlpatterns


@require_POST
def hello(request: HttpRequest) -> HttpResponse:
    # CSRF is checked by the middleware, as for any form post: no exemption.
    return HttpResponse(b"Hello, world\n", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello, name="bench_hello"), *project_urlpatterns]
