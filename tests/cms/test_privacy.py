"""Light and private: nothing from other sites, a quick exit on every page, videos that load
only when asked for, pictures as small WebP renditions, originals never served."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from wagtail.models import Page

from cms import quick_exit
from cms.models import NewsPage
from cms.quick_exit import csp_source
from tests.cms.builders import add_page, make_image

# Attributes through which a page makes the browser fetch something by itself.
FETCHING = {
    ("img", "src"),
    ("img", "srcset"),
    ("source", "srcset"),
    ("source", "src"),
    ("script", "src"),
    ("link", "href"),
    ("iframe", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("form", "action"),
}


class Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.links: list[str] = []
        self.inline_scripts: list[str] = []  # their text
        self.inline_styles = 0
        self.focusable: list[tuple[str, dict[str, str | None]]] = []
        self.tags: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        for name, value in attrs:
            if value and (tag, name) in FETCHING:
                if tag == "link" and attributes.get("rel") in ("canonical", "alternate"):
                    continue
                for part in value.split(","):
                    self.fetched.append(part.strip().split(" ")[0])
            if name == "style":
                self.inline_styles += 1
        if tag == "script" and "src" not in attributes:
            self.inline_scripts.append("")
            self._in_script = True
        if tag == "style":
            self.inline_styles += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        if (
            tag in ("a", "button", "input", "select", "textarea")
            and attributes.get("type") != "hidden"
        ):
            self.focusable.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts[-1] += data


def parse(html: str) -> Resources:
    parser = Resources()
    parser.feed(html)
    return parser


def external(url: str) -> bool:
    host = urlsplit(url).netloc
    return bool(host) and host not in ("testserver",)


@pytest.fixture
def rich_page(site) -> Page:
    """A statement with every block, pictures included."""
    picture = make_image()
    return add_page(
        site.news,
        NewsPage(
            title="Everything at once",
            slug="everything",
            intro="All the blocks.",
            social_image=picture,
            body=[
                ("heading", {"text": "A heading", "level": "h2"}),
                ("paragraph", "<p>Some <b>words</b>.</p>"),
                (
                    "image",
                    {
                        "image": {
                            "image": picture,
                            "alt_text": "A purple square",
                            "decorative": False,
                        },
                        "caption": "Ours",
                    },
                ),
                ("quote", {"quote": "Rights, not rescue.", "attribution": "A member"}),
                (
                    "call_to_action",
                    {
                        "heading": "Act",
                        "text": "",
                        "link": {"page": site.campaign, "url": ""},
                        "button": "Go",
                    },
                ),
                (
                    "document",
                    {"document": site.publication.document, "title": "", "description": ""},
                ),
                (
                    "statistic",
                    {"figure": "8 in 10", "label": "were stopped", "source": "Our survey"},
                ),
                ("live_statistics", {"heading": "", "statistics": ["members"]}),
                (
                    "video",
                    {
                        "url": "https://www.youtube.com/watch?v=abcdefghijk",
                        "title": "Our march",
                        "poster": picture,
                        "transcript": "We marched.",
                    },
                ),
                ("join", {"heading": "Join", "text": "", "button": "Join us"}),
            ],
        ),
    )


def all_public_pages() -> list[str]:
    return [page.url for page in Page.objects.live().filter(depth__gte=2) if page.url]


def test_no_page_fetches_anything_from_another_site(client: Client, site, rich_page) -> None:
    urls = [*all_public_pages(), "/", "/en/search/?q=police", "/fr/recherche/?q=police"]
    assert len(urls) > 25
    for url in urls:
        html = client.get(url).content.decode()
        resources = parse(html)
        assert resources.fetched, url
        assert [u for u in resources.fetched if external(u)] == [], url
        # Only the quick exit's, allowed by the hash of its text.
        assert [csp_source(s) for s in resources.inline_scripts] == [quick_exit.CSP_SOURCE], url
        assert resources.inline_styles == 0, url
        assert "<iframe" not in html, url
        # Links out are only the quick exit and, on the video page, the video itself.
        outside = {u for u in resources.links if external(u)}
        assert outside <= {
            settings.CMS_QUICK_EXIT_URL,
            "https://www.youtube.com/watch?v=abcdefghijk",
        }, url


def test_the_quick_exit_comes_first_on_every_page(client: Client, site, member, login) -> None:
    pages = [site.home.url, site.campaign_fr.url, "/en/search/", "/join/", "/account/login/"]
    for url in pages:
        resources = parse(client.get(url).content.decode())
        tag, attributes = resources.focusable[0]
        assert (tag, attributes["href"]) == ("a", settings.CMS_QUICK_EXIT_URL), url
        assert "data-quick-exit" in attributes
        assert attributes["rel"] == "noreferrer noopener"
    # Signed-in pages too (the same base layout); their link signs out on its way.
    login(client, member)
    resources = parse(client.get("/account/").content.decode())
    assert resources.focusable[0][1]["href"] == reverse("cms_quick_exit")
    assert resources.focusable[0][1]["data-quick-exit"] == settings.CMS_QUICK_EXIT_URL


def test_a_video_is_a_link_until_the_visitor_plays_it(client: Client, rich_page) -> None:
    response = client.get(rich_page.url)
    html = response.content.decode()
    assert '<a class="video-link" href="https://www.youtube.com/watch?v=abcdefghijk"' in html
    assert (
        'data-video-embed="https://www.youtube-nocookie.com/embed/abcdefghijk?autoplay=1"' in html
    )
    assert "Play the video: Our march" in html
    # Only this page may frame the player, and only once the script creates the frame.
    assert "frame-src https://www.youtube-nocookie.com" in response["Content-Security-Policy"]
    assert "frame-src" not in client.get("/en/")["Content-Security-Policy"]


def test_pictures_are_small_webp_renditions_loaded_lazily(client: Client, rich_page) -> None:
    html = client.get(rich_page.url).content.decode()
    image = re.search(r'<figure class="image">\s*(<img[^>]*>)', html).group(1)
    assert 'loading="lazy"' in image
    assert 'alt="A purple square"' in image
    srcset = re.search(r'srcset="([^"]*)"', image).group(1)
    assert [entry.split()[-1] for entry in srcset.split(", ")] == ["360w", "720w", "1080w"]
    assert all(".webp" in entry for entry in srcset.split(", "))
    rendition = client.get(re.search(r'src="([^"]*)"', image).group(1))
    assert rendition.status_code == 200
    assert b"".join(rendition.streaming_content)[:4] == b"RIFF"  # WebP


def test_original_uploads_are_never_served(client: Client, rich_page) -> None:
    original = rich_page.social_image.file.name  # original_images/...
    assert client.get(f"/media/{original}").status_code == 404
    assert client.get(f"/media/images/../{original}").status_code in (400, 404)


def test_open_graph_tags_describe_the_page(client: Client, rich_page) -> None:
    html = client.get(rich_page.url).content.decode()
    assert '<meta property="og:title" content="Everything at once">' in html
    assert '<meta property="og:description" content="All the blocks.">' in html
    assert f'<meta property="og:url" content="http://testserver{rich_page.url}">' in html
    assert '<meta property="og:type" content="article">' in html
    image = re.search(r'<meta property="og:image" content="([^"]*)">', html).group(1)
    assert image.startswith("http://testserver/media/images/") and image.endswith(".jpg")


@pytest.mark.embedded  # Wagtail's database search backend is another one on SQLite
def test_search_finds_pages_of_the_current_language(client: Client, site) -> None:
    html = client.get("/en/search/", {"q": "arrested"}).content.decode()
    assert site.guide.title in html
    assert site.guide_fr.title not in html
    assert client.get("/en/search/", {"q": "arrested"})["Cache-Control"] == "no-store"
