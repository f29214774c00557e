from __future__ import annotations

from django.apps import AppConfig


class DuesConfig(AppConfig):
    name = "dues"
