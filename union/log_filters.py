"""Log records carry paths, never query strings.

A query string holds what someone typed: an office search for a phone number or a name,
a `next` address with one in it. The development server logs the whole request line and
other code may log a URL; this filter, on every handler (settings.LOGGING), cuts the
query string off whatever looks like a path, in the message and in its arguments.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_QUERY = re.compile(r"(/[^\s?\"'<>]*)\?[^\s\"'<>]*")


def without_query_strings(text: str) -> str:
    return _QUERY.sub(r"\1", text)


def _clean(value: Any) -> Any:
    return without_query_strings(value) if isinstance(value, str) else value


class PathsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query_strings(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_clean(value) for value in record.args)
        return True
