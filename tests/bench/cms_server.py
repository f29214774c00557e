"""Settings and URLs for the public-site benchmark's server: the project's own, plus a
hello-world GET at /bench/hello-get/ that pays the same middleware as every public page.

Used as both DJANGO_SETTINGS_MODULE and ROOT_URLCONF of the gunicorn that tests/bench/cms.py
starts (the settings import the project's, the URL list extends the project's).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from union.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.cms_server"


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, world\n", content_type="text/plain")


def _urlpatterns() -> list:  # type: ignore[type-arg]
    from union.urls import urlpatterns as project

    return [path("bench/hello-get/", hello, name="bench_hello_get"), *project]


def __getattr__(name: str) -> object:
    # The URL list is built on first use: importing union.urls while settings load would
    # need the apps, which are not ready yet.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)
