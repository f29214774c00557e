"""Demo votes (idempotent): an open motion in Bamako, and a closed national board
election with its STV count published. Run after load_demo.

Each vote has three tellers (the national coordinator, Bamako's secretary and a national
board member), whose key sheets are made here and printed once: the server keeps none,
so the open motion can only be counted with the words printed when it was made."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from union.models import Branch, Member, Role, RoleAssignment
from votes.models import Vote, VoteKind, VoteStatus
from votes.services import casting, counting, drafting, tellers, unsealing

# In French, the working language of the Bamako branch and of the national level.
MOTION = "Motion : ouvrir un deuxième centre d'accueil à Bamako"
ELECTION = "Élection du bureau national"


class Command(BaseCommand):
    help = "Load demo votes (an open motion in BKO, a published national board election)."

    def handle(self, *args: Any, **options: Any) -> None:
        national = Branch.objects.filter(is_national=True).first()
        bamako = Branch.objects.filter(code="BKO").first()
        officer = (
            RoleAssignment.objects.filter(
                role=Role.NATIONAL_COORDINATOR, member__user__isnull=False
            )
            .select_related("member__user")
            .first()
        )
        if national is None or bamako is None or officer is None:
            self.stdout.write("Load the demo union first (manage.py load_demo).")
            return
        user = officer.member.user
        assert user is not None  # noqa: S101 - filtered above
        self.tellers = [
            assignment.member
            for assignment in RoleAssignment.objects.filter(
                role__in=[Role.SECRETARY, Role.NATIONAL_BOARD],
                branch__in=[bamako, national],
                member__user__isnull=False,
            )
            .exclude(member=officer.member)
            .select_related("member__user", "member__branch")
            .order_by("role")[:2]
        ]
        now = timezone.now()
        if not Vote.objects.filter(title=MOTION).exists():
            with transaction.atomic():
                motion = drafting.create_vote(
                    actor=user,
                    spec=drafting.VoteSpec(
                        kind=VoteKind.MOTION,
                        title=MOTION,
                        text="La section demande au bureau national de financer un deuxième "
                        "centre d'accueil, ouvert le soir, sur le budget de l'an prochain.",
                        branch=bamako,
                        opens_at=now - timedelta(hours=1),
                        closes_at=now + timedelta(days=14),
                        threshold="simple",
                        quorum_percent=20,
                    ),
                )
                self._key_sheets(user, motion)
                drafting.schedule_vote(actor=user, vote=motion)
            self.stdout.write(self.style.SUCCESS(f"Open motion in Bamako: {motion.public_id}"))
        if not Vote.objects.filter(title=ELECTION).exists():
            self._election(user, national, now)
        self.stdout.write("Demo votes present.")

    def _election(self, user: Any, national: Branch, now: Any) -> None:
        rng = random.Random(2026)  # noqa: S311 - demo data
        candidates = list(
            Member.objects.filter(status="active", roles__isnull=True).order_by("number")[:6]
        )
        with transaction.atomic():
            election = drafting.create_vote(
                actor=user,
                spec=drafting.VoteSpec(
                    kind=VoteKind.ELECTION,
                    title=ELECTION,
                    text="Trois sièges au bureau national, pour deux ans.",
                    branch=national,
                    opens_at=now - timedelta(days=10),
                    closes_at=now + timedelta(days=1),
                    seats=3,
                    quorum_percent=10,
                ),
            )
            for candidate in candidates:
                drafting.add_option(
                    actor=user,
                    vote=election,
                    label=candidate.working_name,
                    statement=f"{candidate.branch.name}.",
                    member=candidate,
                )
            sheets = self._key_sheets(user, election)
            drafting.schedule_vote(actor=user, vote=election)
        election.refresh_from_db()
        voters = list(election.roll.select_related("member")[:120])
        popularity = [6, 5, 4, 3, 2, 1][: len(candidates)]
        for entry in voters:
            order = sorted(
                range(1, len(candidates) + 1),
                key=lambda c: -popularity[c - 1] * rng.random(),
            )
            casting.cast_ballot(
                vote=election, member=entry.member, choices=order[: rng.randint(1, 4)]
            )
        # Close it now, as the clock would at its closing time, and count it.
        Vote.objects.filter(pk=election.pk).update(
            closes_at=now - timedelta(minutes=1), opens_at=now - timedelta(days=10)
        )
        counting.claim_due_closures()
        election.refresh_from_db()
        # Tellers 1 and 2 type their sheets at the count; the box opens and it is counted.
        status = unsealing.open_ballot_box(
            actor=user, vote=election, sheets={1: sheets[1], 2: sheets[2]}
        )
        if status == VoteStatus.PUBLISHED:
            self.stdout.write(
                self.style.SUCCESS(f"Published national board election: {election.public_id}")
            )

    def _key_sheets(self, user: Any, vote: Vote) -> dict[int, str]:
        """Three tellers, each making and confirming a key sheet; the words are printed."""
        for member in self.tellers:
            tellers.add_teller(actor=user, vote=vote, member=member)
        words = {}
        self.stdout.write(f"Demo key sheets for {vote.title!r} (shown once, kept nowhere):")
        for teller in vote.tellers.select_related("member__user"):
            teller_user = teller.member.user
            sheet = tellers.make_key_sheet(actor=teller_user, vote=vote)  # type: ignore[arg-type]
            words[teller.number] = " ".join(sheet.words("english"))
            tellers.confirm_key_sheet(
                actor=teller_user,  # type: ignore[arg-type]
                vote=vote,
                words=words[teller.number],
            )
            self.stdout.write(
                f"  teller {teller.number} ({teller.member.number}): {words[teller.number]}"
            )
        return words
