"""Applying for welfare and deciding on it.

A member applies for themself, or an officer or crisis responder applies on their behalf.
The branch welfare committee decides: an application is approved when enough distinct
eligible members approved its current version (the branch's policy, 2 by default). The
member helped, whoever submitted it, and anyone who declared a conflict of interest never
count; a branch with too few eligible members hands the decision to the national
committee, which also decides for national funds. A crisis coordinator may approve alone
within the branch's emergency limits; the committee reviews it afterwards.

Each change of amount, purpose or payee is a new version: approvals of an older version
no longer count, so an edited application is never approved by nobody. Approving or
rejecting a paid or rejected application changes nothing. Every decision is judged by the
fund's rule in force on the day it is taken, and every function below locks the
application, re-reads it, records an audit row and tells the member through the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dues import money
from dues import selectors as dues_selectors
from dues.welfare import documents, selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import (
    OPEN_STATUSES,
    ApplicationDocument,
    ApplicationStatus,
    ConflictOfInterest,
    Decision,
    FundRule,
    PayeeKind,
    PayoutMethod,
    Purpose,
    Review,
    Verdict,
    WelfareApplication,
)
from dues.welfare.services.common import audit, deciding_member, lock_application
from union import permissions
from union.crypto import keyed_hash
from union.models import Member, MemberStatus
from union.permissions import Perm, require
from union.phones import normalise_phone, region_for_currency
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_NOTE = 2000
CLOSED = (ApplicationStatus.PAID, ApplicationStatus.REJECTED)


@dataclass(frozen=True)
class Payee:
    """Who receives the money and how. Details are seen by the treasurer only."""

    kind: str = PayeeKind.MEMBER
    name: str = ""
    method: str = PayoutMethod.CASH
    provider: str = ""  # the mobile-money operator or the bank
    destination: str = ""  # the phone number or the account


@dataclass(frozen=True)
class Upload:
    content: bytes


def _today(application: WelfareApplication) -> date:
    return money.local_today(application.branch.time_zone)


# --- checks ------------------------------------------------------------------------------


def _clean_payee(payee: Payee, currency: str) -> tuple[Payee, str]:
    """The payee normalised, and the keyed hash of its destination ("" for cash)."""
    errors: dict[str, str] = {}
    if payee.kind not in PayeeKind.values:
        errors["payee_kind"] = _("Say who receives the money.")
    name = " ".join(payee.name.split())[:200]
    if payee.kind != PayeeKind.MEMBER and not name:
        errors["payee_name"] = _("Name who receives the money (a court, a hospital, a person).")
    if payee.method not in PayoutMethod.values:
        errors["payout_method"] = _("Choose how the money should be paid.")
    provider = " ".join(payee.provider.split())[:40]
    destination = payee.destination.strip()
    if payee.method == PayoutMethod.MOBILE_MONEY:
        if not provider:
            errors["payout_provider"] = _("Say which mobile money service.")
        try:
            destination = normalise_phone(destination, region_for_currency(currency))
        except ValidationError as exc:
            errors["payout_destination"] = " ".join(exc.messages)
        if not destination and "payout_destination" not in errors:
            errors["payout_destination"] = _("Give the mobile money number.")
    elif payee.method == PayoutMethod.BANK_TRANSFER:
        destination = "".join(destination.split()).upper()[:64]
        if not provider:
            errors["payout_provider"] = _("Say which bank.")
        if not destination:
            errors["payout_destination"] = _("Give the account number.")
    else:
        provider, destination = "", ""
    if errors:
        raise ValidationError(errors)
    cleaned = Payee(
        kind=payee.kind, name=name, method=payee.method, provider=provider, destination=destination
    )
    return cleaned, keyed_hash(f"{payee.method}:{destination}") if destination else ""


def _rule(application: WelfareApplication, day: date) -> FundRule:
    rule = selectors.rule_in_force(application.fund_id, day)
    if rule is None:
        raise ValidationError(_("This fund has no rules yet: it cannot pay."), code="no_rule")
    return rule


def check_rules(application: WelfareApplication, *, amount: int, day: date, rule: FundRule) -> None:
    """The fund's rules on `day` for this member and amount; raises a translated
    ValidationError naming what is not met."""
    member = application.member
    currency = application.currency
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only members of the union can receive welfare."), code="member")
    if rule.good_standing_required and not dues_selectors.is_in_good_standing(member, on=day):
        raise ValidationError(
            _("This fund helps members in good standing: the member's dues are behind."),
            code="standing",
        )
    if rule.waiting_months:
        paid = selectors.paid_months(member)
        if paid < rule.waiting_months:
            raise ValidationError(
                ngettext(
                    "This fund helps members who have paid %(months)s month of dues; "
                    "%(paid)s paid so far.",
                    "This fund helps members who have paid %(months)s months of dues; "
                    "%(paid)s paid so far.",
                    rule.waiting_months,
                )
                % {"months": rule.waiting_months, "paid": paid},
                code="waiting",
            )
    if application.loan and not rule.loans:
        raise ValidationError(
            {"loan": _("This fund does not lend: ask for help that is not repaid.")},
            code="no_loans",
        )
    # The caps of the rule in force on `day` (the decision date), raised for dependants.
    payout_cap = rule.payout_cap(application.dependants)
    member_cap = rule.member_cap(application.dependants)
    if payout_cap is not None and amount > payout_cap:
        raise ValidationError(
            {
                "amount": _("This fund pays at most %(amount)s at a time.")
                % {"amount": money.format_money(payout_cap, currency)}
            },
            code="max_payout",
        )
    if member_cap is not None:
        received = selectors.received_in_year(
            member.pk, application.fund_id, until=day, excluding=application.pk
        )
        if received + amount > member_cap:
            left = max(member_cap - received, 0)
            raise ValidationError(
                {
                    "amount": _(
                        "A member may receive at most %(cap)s from this fund in 12 months; "
                        "%(left)s is left."
                    )
                    % {
                        "cap": money.format_money(member_cap, currency),
                        "left": money.format_money(left, currency),
                    }
                },
                code="member_cap",
            )


def _check_amount(amount: object) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount greater than zero.")}, code="amount")
    return amount


def _check_dependants(dependants: object) -> int:
    if not isinstance(dependants, int) or isinstance(dependants, bool) or not 0 <= dependants <= 50:
        raise ValidationError(
            {"dependants": _("Give the number of dependants (0 to 50).")}, code="dependants"
        )
    return dependants


def _may_edit(actor: User, application: WelfareApplication) -> bool:
    """Only the member and whoever submitted for them change an application: nobody else
    can redirect where a member's money goes."""
    return application.member.user_id == actor.pk or application.submitted_by_id == actor.pk


def _notify(application: WelfareApplication, kind: str, key: str, **context: object) -> None:
    from union.notifications.services import notify_member

    notify_member(
        member=application.member,
        kind=kind,
        dedupe_key=f"{kind}:{application.pk}:{key}",
        context={
            "submitted_on": application.submitted_at.date().isoformat(),
            "currency": application.currency,
            **context,
        },
    )


# --- applying ----------------------------------------------------------------------------


def submit_application(
    *,
    actor: User,
    member: Member,
    purpose: str,
    amount: int,
    note: str = "",
    payee: Payee | None = None,
    uploads: Iterable[Upload] = (),
    dependants: int = 0,
    loan: bool = False,
) -> WelfareApplication:
    """A member applies, or an officer or crisis responder applies for them.

    The fund is the branch's for that purpose, else the national one. The fund's rules of
    today are checked already (so a member learns at once that they must wait), and again
    when the committee decides. `dependants` (children and others she supports) may raise
    the caps; `loan` asks for an interest-free loan where the fund lends. Side effects:
    supporting documents stored encrypted; the member is told their request was received.
    """
    if member.user_id != actor.pk:
        require(actor, Perm.APPLY_WELFARE_FOR_MEMBER, member.branch_id)
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only members of the union can receive welfare."), code="member")
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose what the help is for.")}, code="purpose")
    amount = _check_amount(amount)
    dependants = _check_dependants(dependants)
    note = note.strip()[:MAX_NOTE]
    currency = member.branch.currency
    cleaned, destination_hash = _clean_payee(payee or Payee(), currency)
    checked = [documents.check(upload.content) for upload in uploads]
    if len(checked) > documents.MAX_PER_APPLICATION:
        raise ValidationError(_("Too many files."), code="files")
    fund = selectors.fund_for(member.branch, purpose)
    if fund is None:
        raise ValidationError(
            {"purpose": _("No fund of this branch covers this. Choose another purpose.")},
            code="no_fund",
        )
    with transaction.atomic():
        member = Member.objects.select_related("branch").get(pk=member.pk)
        application = WelfareApplication(
            member=member,
            branch=member.branch,
            fund=fund,
            purpose=purpose,
            amount_requested=amount,
            currency=currency,
            note=note,
            dependants=dependants,
            loan=bool(loan),
            submitted_by=actor,
            payee_kind=cleaned.kind,
            payee_name=cleaned.name,
            payout_method=cleaned.method,
            payout_provider=cleaned.provider,
            payout_destination=cleaned.destination,
            destination_hash=destination_hash,
        )
        today = money.local_today(member.branch.time_zone)
        check_rules(application, amount=amount, day=today, rule=_rule(application, today))
        application.save()
        for document in checked:
            _store(application, document, actor)
        audit(actor, WelfareAction.APPLY, application)
        _notify(application, "welfare_received", "received")
    return application


def _store(
    application: WelfareApplication, checked: documents.Checked, actor: User
) -> ApplicationDocument:
    row = ApplicationDocument(
        application=application,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    row.file.save("document", ContentFile(documents.encrypt(checked.content)), save=False)
    row.save()
    return row


def add_document(
    *, actor: User, application: WelfareApplication, upload: Upload
) -> ApplicationDocument:
    """Add a supporting document (a PDF or photo) to an open or approved application."""
    if not _may_edit(actor, application) and not permissions.has_perm(
        actor, Perm.DECIDE_WELFARE, application.branch_id
    ):
        raise PermissionDenied
    checked = documents.check(upload.content)
    with transaction.atomic():
        application = lock_application(application)
        if application.status in CLOSED:
            raise ValidationError(_("This application is closed."), code="closed")
        if application.documents.count() >= documents.MAX_PER_APPLICATION:
            raise ValidationError(_("Too many files."), code="files")
        document = _store(application, checked, actor)
        audit(actor, WelfareAction.UPLOAD, application)
    return document


def read_document(*, actor: User, document: ApplicationDocument) -> bytes:
    """The plain bytes of a document, for the committee only. Side effect: an audit row."""
    application = document.application
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    with document.file.open("rb") as handle:
        content = documents.decrypt(handle.read())
    with transaction.atomic():
        record_access(
            actor=actor,
            action=WelfareAction.DOCUMENT,
            target=f"document:{document.public_id}",
            branch=application.branch,
        )
    return content


def edit_application(
    *,
    actor: User,
    application: WelfareApplication,
    purpose: str | None = None,
    amount: int | None = None,
    note: str | None = None,
    payee: Payee | None = None,
    dependants: int | None = None,
    loan: bool | None = None,
) -> WelfareApplication:
    """Change an application that is not paid or rejected (the member, or whoever submitted
    it for them).

    A new amount, purpose, payee, number of dependants or loan is a new version: earlier
    approvals stop counting and an approved (not yet paid) application waits for the
    committee again. An application
    waiting for information goes back to the committee with any edit.
    """
    if not _may_edit(actor, application):
        raise PermissionDenied
    with transaction.atomic():
        application = lock_application(application)
        if application.status in CLOSED:
            raise ValidationError(
                _("This application is closed: it cannot be changed."), code="closed"
            )
        material = False
        fields = {"updated_at", "status"}
        if purpose is not None and purpose != application.purpose:
            if purpose not in Purpose.values:
                raise ValidationError({"purpose": _("Choose what the help is for.")})
            fund = selectors.fund_for(application.branch, purpose)
            if fund is None:
                raise ValidationError(
                    {"purpose": _("No fund of this branch covers this. Choose another purpose.")},
                    code="no_fund",
                )
            application.purpose, application.fund = purpose, fund
            fields |= {"purpose", "fund"}
            material = True
        if amount is not None and amount != application.amount_requested:
            application.amount_requested = _check_amount(amount)
            fields.add("amount_requested")
            material = True
        if dependants is not None and dependants != application.dependants:
            application.dependants = _check_dependants(dependants)
            fields.add("dependants")
            material = True
        if loan is not None and bool(loan) != application.loan:
            application.loan = bool(loan)
            fields.add("loan")
            material = True
        if payee is not None:
            cleaned, destination_hash = _clean_payee(payee, application.currency)
            before = (
                application.payee_kind,
                application.payee_name,
                application.payout_method,
                application.payout_provider,
                application.payout_destination,
            )
            after = (
                cleaned.kind,
                cleaned.name,
                cleaned.method,
                cleaned.provider,
                cleaned.destination,
            )
            if before != after:
                (
                    application.payee_kind,
                    application.payee_name,
                    application.payout_method,
                    application.payout_provider,
                    application.payout_destination,
                ) = after
                application.destination_hash = destination_hash
                fields |= {
                    "payee_kind",
                    "payee_name",
                    "payout_method",
                    "payout_provider",
                    "payout_destination",
                    "destination_hash",
                }
                material = True
        if note is not None and note.strip()[:MAX_NOTE] != application.note:
            application.note = note.strip()[:MAX_NOTE]
            fields.add("note")
        if material:
            application.version += 1
            application.amount_granted = None
            application.decided_on = None
            application.rule = None
            application.emergency = False
            application.review = Review.NONE
            application.status = ApplicationStatus.PENDING
            fields |= {
                "version",
                "amount_granted",
                "decided_on",
                "rule",
                "emergency",
                "review",
            }
        elif application.status == ApplicationStatus.NEEDS_INFO and len(fields) > 2:
            application.status = ApplicationStatus.PENDING
        application.updated_at = timezone.now()
        application.save(update_fields=sorted(fields))
        audit(actor, WelfareAction.EDIT, application)
    return application


# --- the committee -------------------------------------------------------------------------


def _decider(actor: User, application: WelfareApplication) -> Member:
    """The deciding member; never the member helped nor whoever submitted the application."""
    permissions.require_another_officer(actor, application.member)  # her own claim
    member = deciding_member(actor)
    if application.submitted_by_id == actor.pk:
        raise ValidationError(
            _("You submitted this application: other committee members decide on it."),
            code="submitter",
        )
    return member


def _decide(
    application: WelfareApplication,
    *,
    actor: User,
    decider: Member,
    verdict: str,
    reason: str,
    amount: int | None = None,
    over_available: bool = False,
) -> Decision:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the decision.")}, code="reason")
    try:
        with transaction.atomic():
            return Decision.objects.create(
                application=application,
                verdict=verdict,
                version=application.version,
                amount=amount,
                reason=reason,
                over_available=over_available,
                decided_by=actor,
                decider=decider,
                applicant_id=application.member_id,
                submitted_by_id=application.submitted_by_id,
            )
    except IntegrityError as exc:  # the database's own refusal (conflict, self-decision)
        raise ValidationError(_("You cannot approve this application."), code="refused") from exc


def declare_conflict(
    *, actor: User, application: WelfareApplication, relationship: str
) -> ConflictOfInterest:
    """A committee member records a relationship to the applicant. From then on they
    cannot approve it, and an approval they gave no longer counts."""
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    member = deciding_member(actor)
    relationship = relationship.strip()
    if not relationship:
        raise ValidationError(
            {"relationship": _("Say what the relationship is.")}, code="relationship"
        )
    with transaction.atomic():
        application = lock_application(application)
        conflict, _created = ConflictOfInterest.objects.get_or_create(
            application=application,
            member=member,
            defaults={"relationship": relationship, "recorded_by": actor},
        )
        audit(actor, WelfareAction.CONFLICT, application)
    return conflict


def _refuse_closed(application: WelfareApplication) -> None:
    if application.status == ApplicationStatus.PAID:
        raise ValidationError(
            _("This application is paid already: nothing was changed."), code="paid"
        )
    if application.status == ApplicationStatus.REJECTED:
        raise ValidationError(
            _("This application was rejected: nothing was changed."), code="rejected"
        )


def counted_approvers(application: WelfareApplication, eligible: frozenset[int]) -> set[int]:
    """Member ids whose approval of the current version counts."""
    return {
        decider
        for decider in selectors.approvals(application).values_list("decider_id", flat=True)
        if decider in eligible
    }


def approve_application(
    *,
    actor: User,
    application: WelfareApplication,
    amount: int,
    reason: str,
    version: int | None = None,
    over_available: bool = False,
) -> WelfareApplication:
    """One committee member approves the current version, granting `amount` (the amount
    requested or less).

    A different amount than the one approved so far is a change: approvals of the earlier
    amount stop counting. `version`, when given, is the version the approver looked at:
    if the application changed since, nothing is recorded. Beyond what the fund has
    available (balance less approved, unpaid grants) only with over_available and a
    reason (audited). With enough distinct eligible approvers the application is approved,
    judged by the fund's rule of today. Side effect: the member is told.
    """
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    amount = _check_amount(amount)
    with transaction.atomic():
        application = lock_application(application)
        _refuse_closed(application)
        if version is not None and version != application.version:
            raise ValidationError(
                _("The application changed since you opened it. Look at it again."),
                code="stale",
            )
        if application.status == ApplicationStatus.APPROVED:
            return application  # approved already: another approval changes nothing
        if application.status == ApplicationStatus.NEEDS_INFO:
            raise ValidationError(
                _("The committee asked for more information: wait for the answer."),
                code="needs_info",
            )
        decider = _decider(actor, application)
        who = selectors.deciders(application)
        if decider.pk not in who.eligible:
            raise ValidationError(
                _("The national committee decides on this application.")
                if who.national
                else _("You cannot approve this application (a declared conflict of interest)."),
                code="not_eligible",
            )
        if amount > application.amount_requested:
            raise ValidationError(
                {"amount": _("Grant at most the amount requested.")}, code="over_request"
            )
        day = _today(application)
        rule = _rule(application, day)
        check_rules(application, amount=amount, day=day, rule=rule)
        available = selectors.fund_balance(application.fund_id) - selectors.committed(
            application.fund_id, excluding=application.pk
        )
        over = amount > available
        if over and not over_available:
            raise ValidationError(
                {
                    "amount": _(
                        "The fund has %(available)s available. To approve more, tick the box "
                        "and say why."
                    )
                    % {"available": money.format_money(max(available, 0), application.currency)}
                },
                code="over_available",
            )
        fields = ["updated_at"]
        if application.amount_granted != amount:
            if application.amount_granted is not None:
                application.version += 1  # a new amount: earlier approvals stop counting
                fields.append("version")
            application.amount_granted = amount
            fields.append("amount_granted")
        if Decision.objects.filter(
            application=application,
            version=application.version,
            decider=decider,
            verdict=Verdict.APPROVE,
        ).exists():
            return application  # this member approved this version already
        _decide(
            application,
            actor=actor,
            decider=decider,
            verdict=Verdict.APPROVE,
            reason=reason,
            amount=amount,
            over_available=over,
        )
        if len(counted_approvers(application, who.eligible)) >= who.required:
            application.status = ApplicationStatus.APPROVED
            application.decided_on = day
            application.rule = rule
            fields += ["status", "decided_on", "rule"]
        application.updated_at = timezone.now()
        application.save(update_fields=fields)
        audit(actor, WelfareAction.DECIDE, application)
        if over:
            audit(actor, WelfareAction.OVERRIDE, application)
        if application.status == ApplicationStatus.APPROVED:
            _notify(application, "welfare_approved", f"v{application.version}", amount=amount)
    return application


def reject_application(
    *, actor: User, application: WelfareApplication, reason: str
) -> WelfareApplication:
    """A committee member turns the application down, with a reason. Rejecting a paid or
    rejected application changes nothing. Side effect: the member is told."""
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    with transaction.atomic():
        application = lock_application(application)
        _refuse_closed(application)
        decider = _decider(actor, application)
        _decide(application, actor=actor, decider=decider, verdict=Verdict.REJECT, reason=reason)
        application.status = ApplicationStatus.REJECTED
        application.decided_on = _today(application)
        application.updated_at = timezone.now()
        application.save(update_fields=["status", "decided_on", "updated_at"])
        audit(actor, WelfareAction.DECIDE, application)
        _notify(application, "welfare_rejected", "rejected")
    return application


def ask_for_information(
    *, actor: User, application: WelfareApplication, question: str
) -> WelfareApplication:
    """The committee needs more before deciding. Any edit by the member (or submitter)
    returns the application to the committee. Side effect: the member is told."""
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    with transaction.atomic():
        application = lock_application(application)
        _refuse_closed(application)
        if application.status != ApplicationStatus.PENDING:
            raise ValidationError(
                _("Only an application waiting for the committee can be asked about."),
                code="state",
            )
        decider = _decider(actor, application)
        _decide(
            application, actor=actor, decider=decider, verdict=Verdict.NEEDS_INFO, reason=question
        )
        application.status = ApplicationStatus.NEEDS_INFO
        application.question = question.strip()
        application.updated_at = timezone.now()
        application.save(update_fields=["status", "question", "updated_at"])
        audit(actor, WelfareAction.DECIDE, application)
        count = application.decisions.filter(verdict=Verdict.NEEDS_INFO).count()
        _notify(application, "welfare_needs_info", f"q{count}")
    return application


# --- the emergency path --------------------------------------------------------------------


def approve_emergency(
    *, actor: User, application: WelfareApplication, amount: int, reason: str
) -> WelfareApplication:
    """A crisis coordinator approves alone, now, within the branch's emergency limits (per
    payout, per coordinator per calendar month, per member in 12 months) and the fund's
    rules. The application is approved at once; the committee reviews it afterwards.

    This is the function the crisis desk calls. Side effect: the member is told.
    """
    require(actor, Perm.EMERGENCY_WELFARE, application.branch_id)
    amount = _check_amount(amount)
    with transaction.atomic():
        application = lock_application(application)
        _refuse_closed(application)
        if application.status == ApplicationStatus.APPROVED:
            return application
        decider = _decider(actor, application)
        if decider.pk in selectors.excluded_deciders(application):
            raise ValidationError(
                _("You cannot approve this application (a declared conflict of interest)."),
                code="conflict",
            )
        if amount > application.amount_requested:
            raise ValidationError(
                {"amount": _("Grant at most the amount requested.")}, code="over_request"
            )
        limits = selectors.policy(application.branch_id)
        day = _today(application)
        currency = application.currency
        year_ago = day - timedelta(days=365)
        checks = (
            (limits.emergency_max_payout, 0, _("at most %(limit)s a payout")),
            (
                limits.emergency_max_per_coordinator_month,
                selectors.emergency_total(since=day.replace(day=1), coordinator_id=actor.pk),
                _("at most %(limit)s a month for each coordinator"),
            ),
            (
                limits.emergency_max_per_member_year,
                selectors.emergency_total(since=year_ago, member_id=application.member_id),
                _("at most %(limit)s a member in 12 months"),
            ),
        )
        for limit, used, text in checks:
            if amount + used > limit:
                raise ValidationError(
                    {
                        "amount": _("The emergency path allows %(rule)s. The committee decides.")
                        % {"rule": text % {"limit": money.format_money(limit, currency)}}
                    },
                    code="emergency_limit",
                )
        rule = _rule(application, day)
        check_rules(application, amount=amount, day=day, rule=rule)
        available = selectors.fund_balance(application.fund_id) - selectors.committed(
            application.fund_id, excluding=application.pk
        )
        if amount > available:
            raise ValidationError(
                {
                    "amount": _("The fund has %(available)s available.")
                    % {"available": money.format_money(max(available, 0), currency)}
                },
                code="over_available",
            )
        if application.amount_granted != amount:
            application.amount_granted = amount
        _decide(
            application,
            actor=actor,
            decider=decider,
            verdict=Verdict.EMERGENCY,
            reason=reason,
            amount=amount,
        )
        application.status = ApplicationStatus.APPROVED
        application.emergency = True
        application.review = Review.PENDING
        application.decided_on = day
        application.rule = rule
        application.updated_at = timezone.now()
        application.save(
            update_fields=[
                "amount_granted",
                "status",
                "emergency",
                "review",
                "decided_on",
                "rule",
                "updated_at",
            ]
        )
        audit(actor, WelfareAction.EMERGENCY, application)
        _notify(application, "welfare_approved", f"v{application.version}", amount=amount)
    return application


def review_emergency(
    *, actor: User, application: WelfareApplication, upheld: bool, reason: str
) -> WelfareApplication:
    """The committee reviews an emergency approval afterwards. Rejecting it before payment
    rejects the application; after payment it is recorded without touching the ledger
    (and the money still counts toward the member's 12-month cap)."""
    require(actor, Perm.DECIDE_WELFARE, application.branch_id)
    with transaction.atomic():
        application = lock_application(application)
        if not application.emergency or application.review != Review.PENDING:
            raise ValidationError(_("There is no emergency approval to review."), code="review")
        decider = _decider(actor, application)
        emergency_by = selectors.approvals(application).values_list("decided_by_id", flat=True)
        if actor.pk in set(emergency_by):
            raise ValidationError(
                _("Someone else reviews an emergency approval you gave."), code="own_review"
            )
        _decide(
            application,
            actor=actor,
            decider=decider,
            verdict=Verdict.UPHOLD if upheld else Verdict.OVERRULE,
            reason=reason,
        )
        application.review = Review.UPHELD if upheld else Review.REJECTED
        fields = ["review", "updated_at"]
        if not upheld and application.status == ApplicationStatus.APPROVED:
            application.status = ApplicationStatus.REJECTED
            fields.append("status")
        application.updated_at = timezone.now()
        application.save(update_fields=fields)
        audit(actor, WelfareAction.REVIEW, application)
        if application.status == ApplicationStatus.REJECTED:
            _notify(application, "welfare_rejected", "rejected")
    return application


__all__ = [
    "OPEN_STATUSES",
    "Payee",
    "Upload",
    "add_document",
    "approve_application",
    "approve_emergency",
    "ask_for_information",
    "check_rules",
    "declare_conflict",
    "edit_application",
    "read_document",
    "reject_application",
    "review_emergency",
    "submit_application",
]
