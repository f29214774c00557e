"""The register costs the same few queries on every page, however big the union."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.factories import MemberFactory

# Five, plus one for the branches' grace months: the register shows where each member
# stands on dues (dues.selectors.with_standing), whatever the number of members.
MAX_QUERIES = 6


def test_any_page_of_the_register_takes_a_fixed_handful_of_queries(
    client, login, secretary, bamako, django_assert_max_num_queries
):
    MemberFactory.create_batch(120, branch=bamako)
    login(client, secretary)
    url = reverse("union:members")
    client.get(url)  # the first request of a session warms its cache
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        first = client.get(url)
    assert not any("COUNT(" in q["sql"] for q in captured.captured_queries)
    next_link = re.search(r'href="\?([^"]*cursor=[^"]+)" rel="next"', first.content.decode())
    assert next_link
    query = next_link.group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(MAX_QUERIES):
        second = client.get(f"{url}?{query}")
    assert second.status_code == 200
