"""The quick exit's script: inlined in every page's <head>, allowed by its hash.

An external file would only start working once downloaded, and on a slow connection a
visitor can click (or need to leave) before that: a click then adds a history entry that
Back would return to. So the script (cms/quick_exit.js) goes into the page itself, and the
Content-Security-Policy allows exactly that text by its SHA-256 (no 'unsafe-inline').

Plain Python, no Django: the settings import it for the hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path


def csp_source(script: str) -> str:
    """How a Content-Security-Policy names an inline script by its text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def compact(source: str) -> str:
    """The script without its comments and indentation: what every page carries should be
    small. (The script holds no string with a comment marker in it.)"""
    without_comments = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return "\n".join(line.strip() for line in without_comments.splitlines() if line.strip())


SCRIPT = compact(Path(__file__).with_name("quick_exit.js").read_text(encoding="utf-8"))
CSP_SOURCE = csp_source(SCRIPT)
