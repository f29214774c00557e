from __future__ import annotations

from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "crisis"
