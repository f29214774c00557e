"""Demo crisis response for the demo union: each branch's crisis team gets demo phones, a
rota and its reply words, and a few call-outs in every state of the last week.

Run by load_demo (after the demo union exists). Safe to run again: with call-outs already
in the demo branches it changes nothing. Alerts go through the outbox like real ones (in
the embedded default, to files in var/sms/).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crisis.models import Callout, Outcome, Position, Source, Urgency
from crisis.services import answers, callouts, rota
from union.models import Branch, ContactPreference, Member, Role, RoleAssignment
from union.services import members as member_services

# Demo numbers, reserved for fiction where the plan allows it.
PHONES = {
    ("BKO", Role.CRISIS_RESPONDER): "+22370000101",
    ("BKO", Role.CRISIS_COORDINATOR): "+22370000102",
    ("SEG", Role.CRISIS_RESPONDER): "+22370000201",
    ("SEG", Role.CRISIS_COORDINATOR): "+22370000202",
    ("JHB", Role.CRISIS_RESPONDER): "+27820000301",
    ("JHB", Role.CRISIS_COORDINATOR): "+27820000302",
}
WORDS = {
    "fr": {
        "ok": "oui, d'accord, j'y vais",
        "no": "non",
        "arrived": "arrivée, sur place",
        "done": "fini, terminé",
        "help": "aide",
    },
    "en": {
        "ok": "yebo",
        "no": "cha",
        "arrived": "ngifikile",
        "done": "sengiqedile",
        "help": "usizo",
    },
}
STORIES = [
    # kind, urgency, hours ago, area, narrative, what happens next
    (
        "arrest",
        Urgency.URGENT,
        0.2,
        "Near the central market",
        "Taken to the police station after a raid on the bar; no lawyer yet.",
        "open",
    ),
    (
        "client_violence",
        Urgency.TODAY,
        0.5,
        "Hotel district",
        "A client refused to pay and hit her; she has a cut on the arm.",
        "acknowledged",
    ),
    (
        "eviction",
        Urgency.TODAY,
        20,
        "Riverside",
        "Landlord threw out three women at dawn.",
        "on_scene",
    ),
    (
        "health",
        Urgency.URGENT,
        50,
        "Bus station",
        "Collapsed at work; taken to hospital.",
        Outcome.HELPED,
    ),
    (
        "police_violence",
        Urgency.URGENT,
        100,
        "Main road checkpoint",
        "Beaten at a checkpoint; condoms taken as 'evidence'.",
        Outcome.REFERRED,
    ),
    (
        "raid",
        Urgency.TODAY,
        140,
        "Old town",
        "Raid on a flat; two detained overnight.",
        Outcome.RELEASED,
    ),
]

# (answer, minutes after the report, channel, the fate that stops before this answer)
STEPS = [
    (answers.Answer.GOING, 4, "sms", "open"),
    (answers.Answer.ARRIVED, 31, "sms", "acknowledged"),
    (answers.Answer.DONE, 180, "web", "on_scene"),
]


class Command(BaseCommand):
    help = "Add demo crisis rotas, settings and call-outs to the demo union (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        branches = list(Branch.objects.filter(code__in=["BKO", "SEG", "JHB"]).order_by("code"))
        if not branches:
            self.stdout.write("No demo branches: run load_demo first.")
            return
        if Callout.objects.filter(branch__in=branches).exists():
            self.stdout.write("Demo crisis response already present; nothing changed.")
        else:
            for branch in branches:
                self._load_branch(branch)
            self.stdout.write(self.style.SUCCESS("Demo crisis response loaded."))
        for branch in branches:
            codes = ", ".join(
                Callout.objects.filter(
                    branch=branch, status__in=["dispatched", "acknowledged", "on_scene"]
                ).values_list("code", flat=True)
            )
            self.stdout.write(f"  Open call-outs in {branch.name}: {codes or 'none'}")

    def _team(self, branch: Branch, role: str) -> Member | None:
        assignment = (
            RoleAssignment.objects.current()
            .filter(branch=branch, role=role, member__user__isnull=False)
            .select_related("member__user", "member__branch")
            .first()
        )
        return assignment.member if assignment else None

    @transaction.atomic
    def _load_branch(self, branch: Branch) -> None:
        responder = self._team(branch, Role.CRISIS_RESPONDER)
        coordinator = self._team(branch, Role.CRISIS_COORDINATOR)
        if responder is None or coordinator is None or coordinator.user is None:
            self.stdout.write(f"  {branch.code}: no crisis team with logins; skipped.")
            return
        for member, role in (
            (responder, Role.CRISIS_RESPONDER),
            (coordinator, Role.CRISIS_COORDINATOR),
        ):
            assert member.user is not None  # noqa: S101 - filtered on a login above
            member_services.update_contact_details(
                actor=member.user,
                member=member,
                contact=member_services.ContactDetails(phone=PHONES[(branch.code, role)]),
                preferred_language=member.preferred_language,
                contact_preference=ContactPreference.SMS,
                consent_sms=True,
                consent_crisis_contact=True,
            )
        actor = coordinator.user
        language = "fr" if branch.main_language == "fr" else "en"
        rota.save_settings(
            actor=actor,
            branch=branch,
            spec=rota.SettingsSpec(
                answer_minutes=10,
                urgent_answer_minutes=5,
                arrive_minutes=45,
                chain_repeats=2,
                retention_days=365,
                keywords=WORDS[language],
            ),
        )
        today = timezone.now().date()
        rota.add_slot(
            actor=actor,
            branch=branch,
            spec=rota.SlotSpec(
                position=Position.PRIMARY,
                responder=responder,
                starts_at=time(0),
                ends_at=time(0),
                valid_from=today - timedelta(days=30),
            ),
        )
        rota.add_slot(
            actor=actor,
            branch=branch,
            spec=rota.SlotSpec(
                position=Position.BACKUP,
                responder=coordinator,
                starts_at=time(20),
                ends_at=time(8),
                valid_from=today - timedelta(days=30),
            ),
        )
        now = timezone.now()
        for kind, urgency, hours, area, narrative, fate in STORIES:
            reported = now - timedelta(hours=hours)
            callout = callouts.log_callout(
                actor=actor,
                branch=branch,
                details=callouts.CalloutDetails(
                    kind=kind,
                    urgency=urgency,
                    needs=["legal"] if kind in ("arrest", "raid", "police_violence") else [],
                    area=area,
                    narrative=narrative,
                    person_description="A member's colleague, goes by Star",
                ),
                source=Source.HELPLINE,
                reported_at=reported,
            )
            # The responder's answers, each at its minute, until the story's fate.
            for answer, minutes, channel, stop_at in STEPS:
                if fate == stop_at:
                    break
                answers.answer_callout(
                    member=responder,
                    callout=callout,
                    answer=answer,
                    channel=channel,
                    now=reported + timedelta(minutes=minutes),
                )
            else:
                callouts.close_callout(actor=actor, callout=callout, outcome=fate)
