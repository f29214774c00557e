"""Bad input to the public site and its admin gets a clear answer, never a server error."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.images import get_image_model

from tests.cms.builders import verified


@pytest.mark.embedded
@pytest.mark.parametrize(
    "query",
    ['"', "\x00", 'police"', "po\x00lice", "'", "&", "|", "!", "(", ":*", "\\", '"""', "<>"],
)
def test_search_answers_any_query_with_a_page(client: Client, site, query: str) -> None:
    response = client.get("/en/search/", {"q": query})
    assert response.status_code == 200
    assert "<h1>Search</h1>" in response.content.decode()


@pytest.mark.embedded
def test_a_quote_or_a_nul_byte_does_not_spoil_a_search(client: Client, site) -> None:
    plain = client.get("/en/search/", {"q": "arrested"}).content.decode()
    assert "found for" in plain and "Nothing found" not in plain
    for query in ('"arrested"', "arrested\x00", "arrested'"):
        html = client.get("/en/search/", {"q": query}).content.decode()
        assert "Nothing found" not in html, query


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (800, 600), (107, 31, 122)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _upload(*, truncated: bool = True) -> io.BytesIO:
    data = _jpeg()
    file = io.BytesIO(data[:2000] if truncated else data)
    file.name = "photo.jpg"
    return file


def test_a_whole_jpeg_is_still_accepted(client: Client, editor) -> None:
    verified(client, editor.user)
    response = client.post(
        reverse("wagtailimages:add"), {"title": "Whole", "file": _upload(truncated=False)}
    )
    assert response.status_code == 302
    assert get_image_model().objects.filter(title="Whole").exists()


def test_a_truncated_jpeg_gets_a_form_error_not_a_server_error(client: Client, editor) -> None:
    verified(client, editor.user)
    before = get_image_model().objects.count()
    response = client.post(reverse("wagtailimages:add"), {"title": "Broken", "file": _upload()})
    assert response.status_code == 200
    assert "could not be read" in response.content.decode()
    assert get_image_model().objects.count() == before


def test_a_truncated_jpeg_in_a_multiple_upload_gets_an_error_too(client: Client, editor) -> None:
    verified(client, editor.user)
    before = get_image_model().objects.count()
    response = client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": _upload()},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert get_image_model().objects.count() == before


def test_a_search_the_database_refuses_says_so(client: Client, site, monkeypatch) -> None:
    from django.db import DatabaseError
    from wagtail.query import PageQuerySet

    def refuse(*args, **kwargs):
        raise DatabaseError("syntax error in the search")

    monkeypatch.setattr(PageQuerySet, "search", refuse)
    response = client.get("/en/search/", {"q": "police"})
    assert response.status_code == 200
    assert "This search could not be done" in response.content.decode()
