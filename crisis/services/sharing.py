"""Sharing a report outside the union (police, a lawyer): only with the member's recorded
consent, logged, and never with the identity of the member who reported it.

The police are apart: what the report says about the aggressor goes to them only when
the person who reported it agreed to the police having it, asked for this sharing. A
consent given earlier for a lawyer or a health service does not stretch to the police
(police have used union records against members), and the reporter's own identity goes
to nobody."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.audit import CrisisAction
from crisis.models import Callout, ShareRecipient, ShareRecord, StepKind
from crisis.services.common import add_step, lock_callout, member_of, target
from union import permissions
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def share_report(
    *, actor: User, callout: Callout, recipient_kind: str, recipient: str, consent: bool
) -> ShareRecord:
    """Record that a coordinator shares this report. `consent`: the coordinator confirms
    the member agreed (recorded on the call-out from now on; for the police it must be
    given for this sharing, whatever was agreed before). Side effects: a timeline line
    and an audit row; the summary to hand over is read with `shared_summary`."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, callout.branch_id)
    if recipient_kind not in ShareRecipient.values:
        raise ValidationError({"recipient_kind": _("Choose who it is shared with.")})
    now = timezone.now()
    with transaction.atomic():
        callout = lock_callout(callout.pk)
        if callout.erased_at is not None:
            raise ValidationError(_("This call-out's text has been erased."))
        if recipient_kind == ShareRecipient.POLICE and not consent:
            raise ValidationError(
                _(
                    "The police get a report only when the person who reported it agreed "
                    "to the police having it: record that consent for this sharing."
                ),
                code="police_consent",
            )
        if not (callout.share_consent or consent):
            raise ValidationError(
                _("Sharing outside the union needs the member's recorded consent."),
                code="consent",
            )
        if consent and not callout.share_consent:
            callout.share_consent = True
            callout.save(update_fields=["share_consent"])
        record = ShareRecord.objects.create(
            callout=callout,
            recipient_kind=recipient_kind,
            recipient=recipient.strip()[:300],
            consent_recorded=True,
            shared_by=actor,
            shared_at=now,
        )
        add_step(callout, StepKind.SHARED, member=member_of(actor), channel="web", at=now)
        record_access(
            actor=actor, action=CrisisAction.SHARE, target=target(callout), branch=callout.branch
        )
    return record


def shared_summary(record: ShareRecord) -> dict[str, object]:
    """What leaves the union: what happened, when, roughly where. Not who: no name, number
    or phone of the member, nor of whoever reported it."""
    callout = record.callout
    return {
        "kind": callout.get_kind_display(),
        "reported_at": callout.reported_at,
        "area": callout.area,
        "narrative": callout.narrative,
        "needs": callout.need_labels(),
    }
