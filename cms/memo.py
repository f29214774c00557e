"""Answers worth computing once per request (the locales, the view restrictions, the home
page in each language), without passing the request through every function.

Outside a request (commands, tasks, tests calling functions directly) nothing is kept, so
nothing can go stale there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started

T = TypeVar("T")
_local = threading.local()


def per_request(key: Hashable, compute: Callable[[], T]) -> T:
    values: dict[Hashable, Any] | None = getattr(_local, "values", None)
    if values is None:
        return compute()
    if key not in values:
        values[key] = compute()
    return values[key]


def _start(**kwargs: Any) -> None:
    _local.values = {}


def _finish(**kwargs: Any) -> None:
    _local.values = None


request_started.connect(_start, dispatch_uid="cms_memo_start")
request_finished.connect(_finish, dispatch_uid="cms_memo_finish")
