from __future__ import annotations

from django.test import RequestFactory

from union.net import client_ip


def test_without_trusted_proxies_the_socket_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "127.0.0.1"


def test_behind_one_proxy_the_forwarded_address_counts_and_forged_entries_are_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert client_ip(request) == "203.0.113.9"


def test_a_missing_forwarded_header_falls_back_to_the_socket_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == "127.0.0.1"
