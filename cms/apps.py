from __future__ import annotations

from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
