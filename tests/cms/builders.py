"""Building the public site for tests: the demo tree (every page type, English and French),
pictures generated on the spot, and a verified sign-in for the Wagtail admin."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from django.core.files.images import ImageFile
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Locale, Page

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

PAGE_MODELS = (
    HomePage,
    SectionPage,
    CampaignPage,
    NewsPage,
    PublicationPage,
    GuidePage,
    EventPage,
    StandardPage,
    JoinPage,
)


def demo_site() -> SimpleNamespace:
    """The demo public site (cms/management/commands/load_demo_cms.py), by name."""
    call_command("load_demo_cms", stdout=io.StringIO())
    en = Locale.objects.get(language_code="en")
    fr = Locale.objects.get(language_code="fr")

    def both(model: type[Page], **lookup: Any) -> tuple[Page, Page]:
        english = model.objects.get(locale=en, **lookup)
        return english, model.objects.get(locale=fr, translation_key=english.translation_key)

    site = SimpleNamespace(en=en, fr=fr)
    site.home, site.home_fr = both(HomePage, depth=2)
    site.campaigns, site.campaigns_fr = both(SectionPage, slug="campaigns")
    site.news, site.news_fr = both(SectionPage, slug="news")
    site.events, site.events_fr = both(SectionPage, slug="events")
    site.campaign, site.campaign_fr = both(CampaignPage)
    site.statement, site.statement_fr = both(NewsPage)
    site.publication, site.publication_fr = both(PublicationPage)
    site.guide, site.guide_fr = both(GuidePage)
    site.march, site.march_fr = both(EventPage, slug="march-3-march")
    site.join, site.join_fr = both(JoinPage)
    site.about = add_page(
        site.home, StandardPage(title="About us", slug="about", intro="Who we are.")
    )
    return site


def add_page(parent: Page, page: Page) -> Page:
    """Add and publish (as a setup step, outside the workflow)."""
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def make_image(title: str = "Test picture", size: tuple[int, int] = (1600, 900)) -> Any:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (107, 31, 122)).save(buffer, format="JPEG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name="test.jpg"), description="A purple square"
    )


def verified(client: Client, user: Any) -> Client:
    """Signed in, with the second factor passed (as after /account/two-factor/)."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client
