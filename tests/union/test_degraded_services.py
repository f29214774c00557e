"""What visitors get while a server the site depends on is away: the database gives a
clear 503 page (never the 500 one), the Redis cache is simply skipped."""

from __future__ import annotations

import socket

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import path
from django.utils import translation

from union.cache import RedisCache


def database_away(request):
    raise OperationalError("server closed the connection unexpectedly")


def connection_gone(request):
    raise InterfaceError("connection already closed")


def broken(request):
    raise ValueError("a bug")


urlpatterns = [
    path("away/", database_away),
    path("gone/", connection_gone),
    path("broken/", broken),
]
handler500 = "union.views.errors.server_error"


@pytest.fixture
def plain_client(settings) -> Client:
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("address", ["/away/", "/gone/"])
def test_a_database_that_is_away_answers_503_saying_nothing_was_saved(plain_client, address):
    response = plain_client.get(address)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert b"Nothing you sent was saved" in response.content


def test_the_503_page_is_in_the_visitor_language(plain_client):
    with translation.override("fr"):
        response = plain_client.get("/away/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 503
    assert "De retour dans un instant" in response.content.decode()


def test_other_errors_keep_the_plain_500_page(plain_client):
    response = plain_client.get("/broken/")

    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_redis_cache_is_a_miss_not_an_error():
    cache = RedisCache(f"redis://127.0.0.1:{_closed_port()}/1", {})

    cache.set("page", b"content")
    assert cache.get("page", "missing") == "missing"
    assert cache.add("page", b"content") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("page") is False
    cache.delete_many(["a", "b"])
    with pytest.raises(ValueError):  # like a missing key: cms.cache.purge sets one instead
        cache.incr("generation")
