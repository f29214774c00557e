"""Each public page is built with a bounded number of queries (the benchmark's budget), when
it is not served from the page cache: at most 15 just after a publish, when every list, menu
and route is worked out again, and none once those are remembered."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cms import cache as page_cache

MAX_QUERIES = 15
PAGES = [
    "home",
    "home_fr",
    "campaigns",
    "campaign",
    "campaign_fr",
    "statement",
    "news_fr",
    "publication",
    "guide",
    "events",
    "march",
    "join",
    "about",
]


@pytest.mark.parametrize("name", PAGES)
def test_a_page_takes_at_most_15_queries(client: Client, site, settings, name: str) -> None:
    settings.CMS_CACHE_SECONDS = 0  # no page cache: the page is built every time
    url = getattr(site, name).url
    client.get(url)  # pictures are resized on the first view only
    page_cache.purge()  # as a publish does: nothing remembered is used
    page_cache.forget_local()
    with CaptureQueriesContext(connection) as cold:
        response = client.get(url)
    assert response.status_code == 200
    assert len(cold) <= MAX_QUERIES, "\n".join(q["sql"][:120] for q in cold.captured_queries)
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    assert len(warm) == 0, "\n".join(q["sql"][:120] for q in warm.captured_queries)
