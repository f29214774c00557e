"""Crisis personas and a rota. Bamako (BKO) has a crisis team with working phones:

- primary: BKO crisis responder, on the rota as primary around the clock.
- backup: BKO crisis responder, on the rota as backup around the clock.
- coordinator: BKO crisis coordinator (the chain's last place; closes, merges, rota).
- national_crisis: crisis coordinator at the national level: every branch's call-outs.
- seg_responder: Ségou crisis responder: sees nothing of Bamako.
- reporter: a BKO member with a login and no role, who reports for herself.

Every phone here agreed to SMS; alerts land in LocmemSmsBackend.outbox. Reply codes are
random: tests read them from the call-out.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisis.models import Callout, Position, RotaSlot, Urgency
from crisis.services import callouts
from tests.factories import MemberFactory
from union.models import Branch, ContactPreference, Member, Role, RoleAssignment
from union.notifications.sms import LocmemSmsBackend

PHONES = {
    "primary": "+22376000001",
    "backup": "+22376000002",
    "coordinator": "+22376000003",
    "national_crisis": "+22376000004",
    "seg_responder": "+22376000005",
    "reporter": "+22376000006",
}


def crisis_officer(
    branch: Branch, role: str, phone: str = "", scope: Branch | None = None
) -> Member:
    member = MemberFactory(
        branch=branch,
        with_login=True,
        phone=phone,
        consent_sms=bool(phone),
        contact_preference=ContactPreference.SMS if phone else ContactPreference.NONE,
    )
    RoleAssignment.objects.create(
        member=member,
        role=role,
        branch=scope or branch,
        starts_on=timezone.localdate() - timedelta(days=60),
    )
    TOTPDevice.objects.create(user=member.user, name="test", confirmed=True)
    return member


@pytest.fixture
def primary(bamako) -> Member:
    return crisis_officer(bamako, Role.CRISIS_RESPONDER, PHONES["primary"])


@pytest.fixture
def backup(bamako) -> Member:
    return crisis_officer(bamako, Role.CRISIS_RESPONDER, PHONES["backup"])


@pytest.fixture
def coordinator(bamako) -> Member:
    return crisis_officer(bamako, Role.CRISIS_COORDINATOR, PHONES["coordinator"])


@pytest.fixture
def national_crisis(bamako, national) -> Member:
    return crisis_officer(
        bamako, Role.CRISIS_COORDINATOR, PHONES["national_crisis"], scope=national
    )


@pytest.fixture
def seg_responder(segou) -> Member:
    return crisis_officer(segou, Role.CRISIS_RESPONDER, PHONES["seg_responder"])


@pytest.fixture
def reporter(bamako) -> Member:
    return MemberFactory(
        branch=bamako,
        with_login=True,
        phone=PHONES["reporter"],
        consent_sms=True,
        contact_preference=ContactPreference.SMS,
    )


def slot(branch: Branch, member: Member, position: str, **kwargs) -> RotaSlot:
    values = {
        "starts_at": time(0, 0),
        "ends_at": time(0, 0),  # around the clock
        "valid_from": date(2020, 1, 1),
        **kwargs,
    }
    return RotaSlot.objects.create(branch=branch, responder=member, position=position, **values)


@pytest.fixture
def rota(bamako, primary, backup, coordinator) -> dict[str, Member]:
    slot(bamako, primary, Position.PRIMARY)
    slot(bamako, backup, Position.BACKUP)
    return {"primary": primary, "backup": backup, "coordinator": coordinator}


def texts_to(member: Member) -> list[str]:
    return [sms["body"] for sms in LocmemSmsBackend.outbox if sms["to"] == member.phone]


def log(actor: Member, branch: Branch, **kwargs) -> Callout:
    details = callouts.CalloutDetails(
        kind=kwargs.pop("kind", "arrest"),
        urgency=kwargs.pop("urgency", Urgency.TODAY),
        needs=kwargs.pop("needs", ["legal"]),
        area=kwargs.pop("area", "Near the Grand Marché"),
        narrative=kwargs.pop("narrative", "Taken by the police at 22:00."),
        person_description=kwargs.pop("person_description", ""),
    )
    return callouts.log_callout(
        actor=actor.user,
        branch=branch,
        details=details,
        source=kwargs.pop("source", "helpline"),
        **kwargs,
    )
