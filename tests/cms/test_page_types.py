"""Every page type: where it may go, created through the admin's own form, routed and shown.

Built with Wagtail's test utilities; the demo tree (both languages) is built once per class.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.models import (
    CampaignPage,
    EventPage,
    GuidePage,
    HomePage,
    JoinPage,
    NewsPage,
    PublicationPage,
    SectionPage,
    StandardPage,
)
from tests.cms.builders import PAGE_MODELS, demo_site, verified

CONTENT_PAGES = (CampaignPage, NewsPage, PublicationPage, GuidePage, EventPage, StandardPage)
PARAGRAPH = ("paragraph", rich_text("<p>Plain words.</p>"))


class PageTypesTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.site = demo_site()
        cls.admin = get_user_model().objects.create_superuser("tech", password="x-long-password")

    def setUp(self) -> None:
        verified(self.client, self.admin)

    def test_where_each_page_type_may_go(self) -> None:
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertAllowedSubpageTypes(HomePage, {SectionPage, JoinPage, *CONTENT_PAGES})
        self.assertAllowedSubpageTypes(SectionPage, {SectionPage, *CONTENT_PAGES})
        for model in (CampaignPage, NewsPage, PublicationPage, GuidePage, EventPage, JoinPage):
            self.assertAllowedSubpageTypes(model, set())
        self.assertAllowedSubpageTypes(StandardPage, {StandardPage})
        self.assertCanNotCreateAt(SectionPage, JoinPage)
        self.assertCanNotCreateAt(Page, CampaignPage)

    def test_a_home_page_for_another_site_can_be_created(self) -> None:
        root = Page.get_first_root_node()
        self.assertCanCreate(
            root,
            HomePage,
            nested_form_data(
                {"title": "Sisonke", "slug": "sisonke", "intro": "", "body": streamfield([])}
            ),
        )

    def test_a_section_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.home,
            SectionPage,
            nested_form_data(
                {"title": "Reports", "intro": "All our reports.", "body": streamfield([])}
            ),
        )

    def test_a_campaign_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.campaigns,
            CampaignPage,
            nested_form_data(
                {
                    "title": "Bank accounts for all",
                    "intro": "",
                    "aim": "Banks open accounts for sex workers.",
                    "status": "ongoing",
                    "demands": streamfield([("demand", "No refusal because of our work.")]),
                    "calls_to_action": streamfield(
                        [("join", {"heading": "Join", "text": "", "button": "Join us"})]
                    ),
                    "body": streamfield([PARAGRAPH]),
                    "updates": streamfield(
                        [
                            (
                                "update",
                                {
                                    "date": "2026-11-01",
                                    "heading": "Letter sent",
                                    "text": rich_text("<p>We wrote to the banks.</p>"),
                                },
                            )
                        ]
                    ),
                }
            ),
        )

    def test_a_statement_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.news,
            NewsPage,
            nested_form_data(
                {
                    "title": "On the new law",
                    "kind": "statement",
                    "date": "2026-11-02",
                    "intro": "",
                    "body": streamfield(
                        [
                            PARAGRAPH,
                            ("quote", {"quote": "Nothing about us without us.", "attribution": ""}),
                            (
                                "statistic",
                                {
                                    "figure": "8 in 10",
                                    "label": "members were stopped",
                                    "source": "",
                                },
                            ),
                            (
                                "live_statistics",
                                {"heading": "", "statistics": streamfield([("item", "members")])},
                            ),
                            (
                                "video",
                                {
                                    "url": "https://www.youtube.com/watch?v=aaaaaaaaaaa",
                                    "title": "Our march",
                                    "poster": "",
                                    "transcript": "",
                                },
                            ),
                        ]
                    ),
                }
            ),
        )

    def test_a_publication_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.home,
            PublicationPage,
            nested_form_data(
                {
                    "title": "Annual report",
                    "date": "2026-11-03",
                    "intro": "",
                    "document": str(self.site.publication.document_id),
                    "summary": rich_text("<p>What we did this year.</p>"),
                    "body": streamfield([]),
                }
            ),
        )

    def test_a_guide_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.home,
            GuidePage,
            nested_form_data(
                {
                    "title": "Your rights at the police station",
                    "applies_to": "South Africa",
                    "last_reviewed": "2026-10-01",
                    "intro": "",
                    "body": streamfield([PARAGRAPH]),
                }
            ),
        )

    def test_an_event_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.events,
            EventPage,
            nested_form_data(
                {
                    "title": "General assembly",
                    "start": "2027-01-15 10:00",
                    "end": "",
                    "place": "",
                    "intro": "",
                    "body": streamfield([]),
                }
            ),
        )

    def test_a_plain_page_and_a_joining_page_can_be_created(self) -> None:
        self.assertCanCreate(
            self.site.home,
            StandardPage,
            nested_form_data({"title": "Contact", "intro": "", "body": streamfield([PARAGRAPH])}),
        )
        self.assertCanCreate(
            self.site.home,
            JoinPage,
            nested_form_data(
                {
                    "title": "Become a member",
                    "intro": "",
                    "body": streamfield(
                        [("join", {"heading": "Join", "text": "", "button": "Join us"})]
                    ),
                }
            ),
        )

    def test_every_page_of_the_demo_renders_in_both_languages(self) -> None:
        # (assertPageIsRoutable does not know about the /en/, /fr/ prefixes; rendering through
        # the real URL routes the page too.)
        pages = Page.objects.type(*PAGE_MODELS).live().specific()
        self.assertGreaterEqual(pages.count(), 2 * len(PAGE_MODELS) - 2)
        for page in pages:
            with self.subTest(page=page.url_path):
                self.assertPageIsRenderable(page)
        self.assertEqual({type(page) for page in pages}, set(PAGE_MODELS))
