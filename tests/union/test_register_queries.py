"""The register costs the same few queries on every page, however big the union."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.factories import MemberFactory


def test_any_page_of_the_register_takes_at_most_five_queries(
    client, login, secretary, bamako, django_assert_max_num_queries
):
    MemberFactory.create_batch(120, branch=bamako)
    login(client, secretary)
    url = reverse("union:members")
    client.get(url)  # the first request of a session warms its cache
    with django_assert_max_num_queries(5) as captured:
        first = client.get(url)
    assert not any("COUNT(" in q["sql"] for q in captured.captured_queries)
    next_link = re.search(r'href="\?([^"]*cursor=[^"]+)" rel="next"', first.content.decode())
    assert next_link
    query = next_link.group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(5):
        second = client.get(f"{url}?{query}")
    assert second.status_code == 200
