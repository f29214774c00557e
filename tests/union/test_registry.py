"""The core's extension points: apps plug in from ready(); the core knows none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from union import registry
from union.celery import RegistryScheduler
from union.celery import app as celery_app
from union.models import AuditEvent
from union.notifications import messages
from union.services.audit import record_access

CORE = Path(settings.BASE_DIR) / "union"
# Project configuration may name the apps it assembles; the core proper may not.
CONFIGURATION = {"settings.py", "urls.py"}
APPS = ("dues", "votes", "crisis", "cms")


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_no_app():
    offenders = []
    for path in CORE.rglob("*.py"):
        if path.relative_to(CORE).as_posix() in CONFIGURATION or "migrations" in path.parts:
            continue
        for module in _imported_modules(path):
            if module.split(".")[0] in APPS:
                offenders.append(f"{path.relative_to(CORE)}: {module}")
    assert offenders == []


@pytest.mark.django_db
def test_an_unregistered_audit_action_is_refused_and_nothing_is_written():
    with pytest.raises(ValueError, match="Unregistered audit action"):
        record_access(actor=None, action="nobody.did_this")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_each_app_declares_its_own_audit_actions_and_labels():
    event = record_access(actor=None, action="dues.payment")
    assert str(event.action_label) == "Recorded a dues payment"
    assert registry.is_audit_action("member.view")
    # An old row from an app no longer installed still reads, by its name.
    assert registry.audit_action_label("gone.away") == "gone.away"


def test_audit_action_names_are_checked_when_registered():
    with pytest.raises(ImproperlyConfigured):
        registry.register_audit_actions({"No Dots": "bad"})
    with pytest.raises(ImproperlyConfigured):
        registry.register_audit_actions({"member.view": "another label for a known name"})


def test_apps_register_their_own_message_texts_and_the_outbox_renders_them_in_french():
    assert {"welcome", "dues_reminder", "dues_payment"} <= set(registry.message_kinds())
    _subject, body = messages.render(
        "dues_reminder", "fr", {"months": 2, "amount": 3000, "currency": "XOF"}
    )
    assert "3" in body and "000" in body
    assert (
        body
        != messages.render("dues_reminder", "en", {"months": 2, "amount": 3000, "currency": "XOF"})[
            1
        ]
    )


def test_an_unknown_message_kind_is_an_error_not_an_empty_message():
    with pytest.raises(LookupError):
        messages.render("no_such_kind", "en", {})


def test_without_a_standing_rule_start_up_fails_and_nobody_is_let_through(monkeypatch):
    monkeypatch.setattr(registry, "_standing", [])
    errors = checks.run_checks()
    assert "union.E001" in {error.id for error in errors}
    with pytest.raises(ImproperlyConfigured):
        registry.in_good_standing(None)  # type: ignore[arg-type]


def test_with_the_dues_app_installed_the_checks_pass():
    assert "union.E001" not in {error.id for error in checks.run_checks()}


def test_a_second_standing_rule_is_refused():
    with pytest.raises(ImproperlyConfigured):
        registry.register_standing_rule(lambda members, **kwargs: members)


def test_beat_runs_every_app_s_jobs(tmp_path):
    schedule = registry.beat_schedule()
    assert schedule["sweep-notifications"]["task"] == "union.tasks.sweep_notifications"
    assert schedule["dues-monthly-run"]["task"] == "dues.tasks.run_monthly_dues"
    assert schedule["cms-publish-scheduled"]["task"] == "cms.tasks.publish_scheduled_pages"
    # Every job names a task the worker knows.
    celery_app.loader.import_default_modules()
    assert {entry["task"] for entry in schedule.values()} <= set(celery_app.tasks)
    # What beat itself loads when it starts.
    scheduler = RegistryScheduler(
        app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=False
    )
    try:
        assert set(schedule) <= set(scheduler.schedule)
    finally:
        scheduler.close()
    assert celery_app.conf.beat_scheduler == "union.celery:RegistryScheduler"
