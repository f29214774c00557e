"""Load the demo public site, in English and French (idempotent).

A home page, sections, a campaign, a statement, a publication, a know-your-rights guide
and two events (the marches of 3 March and 17 December), each published in both
languages. Pictures and the report are generated here: nothing is downloaded.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Locale, Page
from wagtail.rich_text import RichText

from cms import editors
from cms.models import (
    CampaignPage,
    EventPage,
    GuidePage,
    HomePage,
    JoinPage,
    NewsPage,
    PublicationPage,
    SectionPage,
)
from cms.setup import ensure_site

CAMPAIGN_SLUG = "decriminalise-sex-work"


def _picture() -> ImageFile:
    """A plain banner (coloured bands and circles): no people, no place, no metadata."""
    width, height = 1600, 900
    canvas = PILImage.new("RGB", (width, height), (107, 31, 122))
    draw = ImageDraw.Draw(canvas)
    for i, colour in enumerate([(140, 60, 150), (170, 90, 170), (230, 180, 60)]):
        draw.rectangle([0, 560 + i * 110, width, 670 + i * 110], fill=colour)
    for i in range(7):
        x = 180 + i * 210
        draw.ellipse([x, 300 - (i % 3) * 40, x + 150, 450 - (i % 3) * 40], fill=(250, 240, 250))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85)
    return ImageFile(buffer, name="solidaire-banner.jpg")


def _pdf(title: str, lines: list[str]) -> ContentFile:
    """A one-page PDF written by hand (no PDF library needed for a demo report)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text_ops = ["BT", "/F1 20 Tf", "72 760 Td", f"({escape(title)}) Tj", "/F1 12 Tf"]
    for line in lines:
        text_ops += ["0 -24 Td", f"({escape(line)}) Tj"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return ContentFile(out.getvalue(), name="our-lives-our-work.pdf")


def _next(month: int, day: int, hour: int = 10) -> datetime:
    """The next such day, at `hour` UTC (Bamako time)."""
    today = timezone.localdate()
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return datetime.combine(date(year, month, day), time(hour), tzinfo=UTC)


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Wagtail logs every page it creates and publishes; the demo makes dozens."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Load the demo public site in English and French (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_site()
        if CampaignPage.objects.filter(slug=CAMPAIGN_SLUG).exists():
            self.stdout.write("Demo public site already present; nothing changed.")
        else:
            with _quiet("wagtail", "django_tasks", "cms"):
                self._load()
            self.stdout.write(self.style.SUCCESS("Demo public site loaded (English and French)."))
        with _quiet("cms"):
            editors_count, _removed = editors.sync_editor_groups()
        self.stdout.write(
            f"Public site: http://127.0.0.1:8000/en/ and /fr/; editing at /cms-admin/ "
            f"({editors_count} editors, each with the editor role)."
        )

    @transaction.atomic
    def _load(self) -> None:
        english = Locale.get_default()
        french, _ = Locale.objects.get_or_create(language_code="fr")
        home = HomePage.objects.get(locale=english, depth=2)
        banner = get_image_model().objects.create(
            title="Solidaire banner",
            file=_picture(),
            description="Purple and gold bands under a row of white circles",
        )
        report = get_document_model().objects.create(
            title="Our lives, our work (report)",
            file=_pdf(
                "Our lives, our work",
                [
                    "A report by sex workers on police violence and the law.",
                    "Members in three towns told us what happens after an arrest.",
                    "Condoms taken as evidence keep people from carrying them.",
                ],
            ),
        )

        home.title = "Solidaire"
        home.intro = "A union run by sex workers, for sex workers. Together we are stronger."
        home.hero_image = banner
        home.body = [
            (
                "live_statistics",
                {"heading": "Our union today", "statistics": ["members", "branches"]},
            ),
            (
                "join",
                {
                    "heading": "Join the union",
                    "text": "Membership is open to every sex worker. You only need a name "
                    "we can call you by.",
                    "button": "Join us",
                },
            ),
        ]
        self._publish(home)
        home_fr = self._translate(
            home,
            french,
            title="Solidaire",
            intro="Un syndicat dirigé par les travailleuses et travailleurs du sexe, pour "
            "elles et pour eux. Ensemble, nous sommes plus fort·es.",
            body=[
                (
                    "live_statistics",
                    {
                        "heading": "Notre syndicat aujourd'hui",
                        "statistics": ["members", "branches"],
                    },
                ),
                (
                    "join",
                    {
                        "heading": "Adhérer au syndicat",
                        "text": "L'adhésion est ouverte à toutes les personnes qui font le "
                        "travail du sexe. Il suffit d'un nom par lequel vous appeler.",
                        "button": "Adhérer",
                    },
                ),
            ],
        )
        assert home_fr is not None  # noqa: S101 - created just above

        sections: dict[str, SectionPage] = {}
        for slug, title, intro, slug_fr, title_fr, intro_fr in [
            (
                "campaigns",
                "Campaigns",
                "What we are fighting for.",
                "campagnes",
                "Campagnes",
                "Ce pour quoi nous nous battons.",
            ),
            (
                "news",
                "News and statements",
                "What the union says and does.",
                "actualites",
                "Actualités et déclarations",
                "Ce que le syndicat dit et fait.",
            ),
            (
                "publications",
                "Publications",
                "Reports and leaflets to read and share.",
                "publications",
                "Publications",
                "Rapports et dépliants à lire et à partager.",
            ),
            (
                "know-your-rights",
                "Know your rights",
                "What the law says, and what to do.",
                "connaitre-ses-droits",
                "Connaître ses droits",
                "Ce que dit la loi, et que faire.",
            ),
            (
                "events",
                "Events",
                "Marches, meetings and days of action.",
                "evenements",
                "Événements",
                "Marches, réunions et journées d'action.",
            ),
        ]:
            section = SectionPage(title=title, slug=slug, intro=intro, show_in_menus=True)
            home.add_child(instance=section)
            self._publish(section)
            sections[slug] = section
            self._translate(section, french, title=title_fr, slug=slug_fr, intro=intro_fr)

        join = JoinPage(
            title="Join us",
            slug="join-us",
            show_in_menus=True,
            intro="Every sex worker can join. Members decide together, pay small dues and "
            "stand by each other when there is trouble.",
        )
        home.add_child(instance=join)
        self._publish(join)
        self._translate(
            join,
            french,
            title="Adhérer",
            slug="adherer",
            intro="Toute personne qui fait le travail du sexe peut adhérer. Les membres "
            "décident ensemble, paient une petite cotisation et se soutiennent en cas de "
            "problème.",
        )

        campaign = CampaignPage(
            title="Decriminalise sex work",
            slug=CAMPAIGN_SLUG,
            intro="Laws against sex work put us in danger. We want them gone.",
            aim="An end to every law that punishes sex workers, their clients or the people "
            "they work with.",
            hero_image=banner,
            demands=[
                ("demand", "Repeal the laws that criminalise sex work."),
                ("demand", "Stop police using condoms as evidence."),
                ("demand", "Let sex workers open bank accounts like anyone else."),
            ],
            updates=[
                (
                    "update",
                    {
                        "date": timezone.localdate(),
                        "heading": "Meeting with the ministry",
                        "text": RichText("<p>Three members met the ministry of justice.</p>"),
                    },
                )
            ],
        )
        sections["campaigns"].add_child(instance=campaign)

        statement = NewsPage(
            title="Police must stop using condoms as evidence",
            slug="condoms-are-not-evidence",
            kind=NewsPage.Kind.STATEMENT,
            intro="When carrying condoms can get you arrested, people stop carrying them.",
            body=[
                (
                    "paragraph",
                    RichText(
                        "<p>Our members report that police take condoms as proof of sex "
                        "work. This puts lives at risk. We call on the police to stop at "
                        "once.</p>"
                    ),
                ),
                (
                    "quote",
                    {"quote": "They took my condoms and my money.", "attribution": "A member"},
                ),
            ],
        )
        sections["news"].add_child(instance=statement)
        self._publish(statement)

        publication = PublicationPage(
            title="Our lives, our work",
            slug="our-lives-our-work",
            intro="A report by sex workers on police violence and the law.",
            document=report,
            summary=RichText(
                "<p>Members in three towns told us what happens after an arrest. Most were "
                "never charged; many lost money or phones.</p>"
            ),
        )
        sections["publications"].add_child(instance=publication)
        self._publish(publication)

        guide = GuidePage(
            title="If you are arrested",
            slug="if-you-are-arrested",
            applies_to="Mali",
            intro="What to say, what not to sign, and who to call.",
            body=[
                (
                    "paragraph",
                    RichText(
                        "<ol><li>Stay calm and ask why you are being held.</li>"
                        "<li>Do not sign anything you cannot read.</li>"
                        "<li>Call your branch's crisis team.</li></ol>"
                    ),
                ),
                ("branch_contacts", {"heading": "Your branch's helpline", "branch": ""}),
            ],
        )
        sections["know-your-rights"].add_child(instance=guide)
        self._publish(guide)

        march = EventPage(
            title="March for sex workers' rights",
            slug="march-3-march",
            start=_next(3, 3),
            place="Place de l'Indépendance, Bamako",
            intro="International Sex Workers' Rights Day.",
        )
        sections["events"].add_child(instance=march)
        self._publish(march)
        vigil = EventPage(
            title="End violence against sex workers",
            slug="vigil-17-december",
            start=_next(12, 17, hour=17),
            place="Bourse du travail, Bamako",
            intro="International Day to End Violence Against Sex Workers: a vigil.",
        )
        sections["events"].add_child(instance=vigil)
        self._publish(vigil)

        # The campaign's button leads to the march (known only now).
        campaign.calls_to_action = [
            (
                "call_to_action",
                {
                    "heading": "Come to the march on 3 March",
                    "text": "International Sex Workers' Rights Day: walk with us.",
                    "link": {"page": march, "url": ""},
                    "button": "See the march",
                },
            ),
        ]
        self._publish(campaign)

        march_fr = self._translate(
            march,
            french,
            title="Marche pour les droits des travailleuses du sexe",
            slug="marche-3-mars",
            intro="Journée internationale des droits des travailleuses et travailleurs du sexe.",
        )
        self._translate(
            vigil,
            french,
            title="Contre les violences faites aux travailleuses du sexe",
            slug="veillee-17-decembre",
            intro="Journée internationale contre les violences faites aux travailleuses et "
            "travailleurs du sexe : une veillée.",
        )
        self._translate(
            campaign,
            french,
            title="Décriminaliser le travail du sexe",
            slug="decriminaliser-le-travail-du-sexe",
            intro="Les lois contre le travail du sexe nous mettent en danger. Nous voulons "
            "leur abrogation.",
            aim="La fin de toutes les lois qui punissent les travailleuses du sexe, leurs "
            "clients ou les personnes qui travaillent avec elles.",
            demands=[
                ("demand", "Abroger les lois qui criminalisent le travail du sexe."),
                ("demand", "Que la police cesse d'utiliser les préservatifs comme preuve."),
                ("demand", "Que les travailleuses du sexe puissent ouvrir un compte en banque."),
            ],
            calls_to_action=[
                (
                    "call_to_action",
                    {
                        "heading": "Venez à la marche du 3 mars",
                        "text": "Journée internationale des droits des travailleuses du sexe : "
                        "marchez avec nous.",
                        "link": {"page": march_fr, "url": ""},
                        "button": "Voir la marche",
                    },
                ),
            ],
            updates=[
                (
                    "update",
                    {
                        "date": timezone.localdate(),
                        "heading": "Rencontre avec le ministère",
                        "text": RichText(
                            "<p>Trois membres ont rencontré le ministère de la Justice.</p>"
                        ),
                    },
                )
            ],
        )
        self._translate(
            statement,
            french,
            title="La police doit cesser d'utiliser les préservatifs comme preuve",
            slug="les-preservatifs-ne-sont-pas-des-preuves",
            intro="Quand avoir des préservatifs peut mener en prison, on cesse d'en porter.",
            body=[
                (
                    "paragraph",
                    RichText(
                        "<p>Nos membres rapportent que la police saisit les préservatifs "
                        "comme preuve de travail du sexe. Cela met des vies en danger. Nous "
                        "demandons à la police d'arrêter immédiatement.</p>"
                    ),
                ),
                (
                    "quote",
                    {
                        "quote": "Ils ont pris mes préservatifs et mon argent.",
                        "attribution": "Une membre",
                    },
                ),
            ],
        )
        self._translate(
            publication,
            french,
            title="Nos vies, notre travail",
            slug="nos-vies-notre-travail",
            intro="Un rapport des travailleuses du sexe sur les violences policières et la loi.",
            summary=RichText(
                "<p>Des membres de trois villes nous ont dit ce qui se passe après une "
                "arrestation. La plupart n'ont jamais été inculpées ; beaucoup ont perdu de "
                "l'argent ou leur téléphone.</p>"
            ),
        )
        self._translate(
            guide,
            french,
            title="En cas d'arrestation",
            slug="en-cas-d-arrestation",
            intro="Que dire, que ne pas signer, et qui appeler.",
            body=[
                (
                    "paragraph",
                    RichText(
                        "<ol><li>Restez calme et demandez pourquoi vous êtes retenue.</li>"
                        "<li>Ne signez rien que vous ne pouvez pas lire.</li>"
                        "<li>Appelez l'équipe de crise de votre section.</li></ol>"
                    ),
                ),
                (
                    "branch_contacts",
                    {"heading": "La ligne d'écoute de votre section", "branch": ""},
                ),
            ],
        )

    def _publish(self, page: Page) -> None:
        page.save_revision().publish()

    def _translate(self, page: Page, locale: Locale, **fields: Any) -> Page:
        """A published translation of `page` (its parent must be translated already)."""
        translation = page.copy_for_translation(locale).specific
        for name, value in fields.items():
            setattr(translation, name, value)
        translation.save_revision().publish()
        return translation
