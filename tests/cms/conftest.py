"""Personas of the public site, on top of tests/conftest.py's:

- editor: Bamako member with the editor role; drafts pages and submits them for approval.
- second_editor: Ségou member with the editor role; approves what others wrote.
- ended_editor: was a Bamako editor until yesterday; no access to the admin any more.

Pages are cached across requests (cms.cache); the cache is emptied around every test here
so that no page rendered for one test's database is served to another.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from cms import cache as page_cache
from cms.editors import sync_editor
from tests.cms.builders import demo_site
from tests.conftest import _officer
from union.models import Branch, Member, Role


@pytest.fixture(autouse=True)
def _empty_page_cache() -> Iterator[None]:
    cache.clear()
    page_cache.forget_local()
    yield
    cache.clear()
    page_cache.forget_local()


def _editor(branch: Branch, *, ended: bool = False) -> Member:
    member = _officer(branch, Role.EDITOR, ended=ended)
    assert member.user is not None
    sync_editor(member.user)
    return member


@pytest.fixture
def editor(bamako: Branch) -> Member:
    return _editor(bamako)


@pytest.fixture
def second_editor(segou: Branch) -> Member:
    return _editor(segou)


@pytest.fixture
def ended_editor(bamako: Branch) -> Member:
    return _editor(bamako, ended=True)


@pytest.fixture(scope="module")
def _module_site(django_db_setup: None, django_db_blocker: Any) -> Iterator[SimpleNamespace]:
    """Built once per test module inside a transaction that is rolled back afterwards; each
    test still runs in its own savepoint (the `db` fixture), so tests cannot see each
    other's changes."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = demo_site()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def site(_module_site: SimpleNamespace, db: None) -> SimpleNamespace:
    """The demo public site, English and French, every page type published."""
    for value in vars(_module_site).values():
        if hasattr(value, "refresh_from_db"):
            value.refresh_from_db()
    cache.clear()
    page_cache.forget_local()
    return _module_site
