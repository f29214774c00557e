"""The access matrices of the dues screens, read and checked the same way.

A matrix is a header of persona columns and one row per screen; a cell says what the
persona gets: login (sent to sign in), 403, 404, or ok (200, or a redirect that is not to
sign-in or the second factor).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import reverse


def cells(matrix: str, personas: dict[str, str | None]) -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in matrix.strip().splitlines())
    assert header[1:] == list(personas), "matrix columns and personas differ"
    return [
        (row[0], col, cell) for row in rows for col, cell in zip(header[1:], row[1:], strict=True)
    ]


def assert_access(response, expected: str) -> None:
    if expected == "login":
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("union:login")
    elif expected == "ok":
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            target = urlsplit(response["Location"]).path
            assert target not in (reverse("union:login"), reverse("union:two_factor"))
    else:
        assert response.status_code == int(expected)
