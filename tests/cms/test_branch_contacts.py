"""Public pages show how to reach a branch, as its secretary keeps it (issue 14, item 8)."""

from __future__ import annotations

from django.test import Client

from tests.union.test_join_thanks import HELPLINE, HOURS, bamako_open  # noqa: F401 - fixture


def test_a_public_page_shows_the_branch_contacts(client: Client, bamako_open, site) -> None:  # noqa: F811
    from wagtail.blocks import StreamValue

    from cms.models import GuidePage

    guide = GuidePage.objects.filter(locale=site.en).first()
    guide.body = StreamValue(
        guide.body.stream_block,
        [
            *((c.block_type, c.value) for c in guide.body),
            ("branch_contacts", {"heading": "Call us", "branch": "BKO"}),
        ],
    )
    guide.save_revision().publish()
    html = client.get(guide.url).content.decode()
    assert "Call us" in html and HELPLINE in html and HOURS in html
