"""Video addresses: which ones can be played in the page, and from where.

Nothing is loaded from a video site until the visitor asks for it (see static/cms/js/site.js):
the page holds a plain link out, and the player address only in a data attribute. The
player hosts are the privacy-enhanced ones (no cookies until play).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_YOUTUBE_ID = re.compile(r"^[\w-]{11}$")
_VIMEO_ID = re.compile(r"^\d{6,12}$")


@dataclass(frozen=True)
class Video:
    watch_url: str  # where the plain link goes
    embed_url: str  # the player, loaded only after a click; "" when it cannot be embedded
    provider: str  # shown to the visitor before they choose to play

    @property
    def embed_host(self) -> str:
        return urlsplit(self.embed_url).netloc if self.embed_url else ""


YOUTUBE_EMBED_HOST = "www.youtube-nocookie.com"
VIMEO_EMBED_HOST = "player.vimeo.com"
EMBED_HOSTS = (YOUTUBE_EMBED_HOST, VIMEO_EMBED_HOST)


def _youtube_id(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        candidate = path.strip("/").split("/")[0]
    elif host.endswith("youtube.com") or host.endswith("youtube-nocookie.com"):
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["watch"]:
            candidate = parse_qs(query).get("v", [""])[0]
        elif len(parts) >= 2 and parts[0] in ("embed", "shorts", "live", "v"):
            candidate = parts[1]
        else:
            return None
    else:
        return None
    return candidate if _YOUTUBE_ID.match(candidate) else None


def _vimeo_id(host: str, path: str) -> str | None:
    if host not in ("vimeo.com", "www.vimeo.com", "player.vimeo.com"):
        return None
    parts = [p for p in path.split("/") if p]
    candidate = parts[-1] if parts else ""
    return candidate if _VIMEO_ID.match(candidate) else None


def parse(url: str) -> Video:
    """Understand a video address an editor pasted. Unknown sites are linked to, not embedded."""
    split = urlsplit(url.strip())
    host = (split.hostname or "").lower()
    if (video_id := _youtube_id(host, split.path, split.query)) is not None:
        return Video(
            watch_url=f"https://www.youtube.com/watch?v={video_id}",
            embed_url=f"https://{YOUTUBE_EMBED_HOST}/embed/{video_id}?autoplay=1",
            provider="YouTube",
        )
    if (video_id := _vimeo_id(host, split.path)) is not None:
        return Video(
            watch_url=f"https://vimeo.com/{video_id}",
            embed_url=f"https://{VIMEO_EMBED_HOST}/video/{video_id}?autoplay=1&dnt=1",
            provider="Vimeo",
        )
    return Video(watch_url=url.strip(), embed_url="", provider=host.removeprefix("www."))
