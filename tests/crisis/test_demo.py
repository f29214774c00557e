"""The demo crisis response: each branch's team can be reached, a rota, call-outs in every
state; loading twice changes nothing."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from crisis.models import Callout, CalloutStatus, CrisisSettings, RotaSlot
from crisis.services.dispatch import reachable
from tests.crisis.conftest import crisis_officer
from union.models import Role


def test_demo_crisis_loads_once(bamako, johannesburg, django_capture_on_commit_callbacks):
    for branch in (bamako, johannesburg):
        crisis_officer(branch, Role.CRISIS_RESPONDER)
        crisis_officer(branch, Role.CRISIS_COORDINATOR)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_crisis", stdout=out)
    assert "Demo crisis response loaded." in out.getvalue()
    assert RotaSlot.objects.filter(branch=bamako).count() == 2
    assert all(reachable(slot.responder) for slot in RotaSlot.objects.all())
    assert CrisisSettings.objects.get(branch=bamako).keywords["ok"][0] == "oui"
    statuses = set(Callout.objects.filter(branch=bamako).values_list("status", flat=True))
    assert {
        CalloutStatus.DISPATCHED,
        CalloutStatus.ACKNOWLEDGED,
        CalloutStatus.ON_SCENE,
    } <= statuses
    assert CalloutStatus.CLOSED in statuses
    count = Callout.objects.count()
    out = StringIO()
    call_command("load_demo_crisis", stdout=out)
    assert "already present" in out.getvalue()
    assert Callout.objects.count() == count
