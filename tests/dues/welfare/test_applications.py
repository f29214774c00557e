"""Applying and deciding: who may approve, versions, the fund's rules, the emergency path.

Personas: awa applies; committee_a/b/c are Bamako's welfare committee; national_committee_a/b
decide escalated applications; crisis_coordinator approves alone in an emergency;
treasurer pays (tests/dues/welfare/test_payouts.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dues import money
from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import (
    ApplicationStatus,
    Decision,
    FundRule,
    Purpose,
    Review,
    Verdict,
    WelfareApplication,
)
from dues.welfare.services import applications, funds, payouts
from tests.conftest import _officer
from tests.dues.conftest import charge, pay
from tests.dues.welfare.conftest import MAX_PAYOUT, MEMBER_CAP, approve, make_fund, submit
from tests.factories import MemberFactory
from union.models import AuditEvent, MemberStatus, Notification, Role

pytestmark = pytest.mark.django_db


def _today():
    return money.local_today("Africa/Bamako")


# --- who may approve: the matrix ----------------------------------------------------------

# Each row: who tries to approve Awa's application (submitted by `submitter`), and what
# happens. "counts": recorded and counted; "refused": a translated error, nothing recorded;
# "denied": PermissionDenied (no right at all).
APPROVER_MATRIX = [
    ("committee_a", "awa", "counts"),
    ("committee_a", "committee_a", "refused"),  # the submitter
    ("awa_on_committee", "awa", "refused"),  # the member helped
    ("conflicted", "awa", "refused"),
    ("treasurer", "awa", "denied"),
    ("crisis_coordinator", "awa", "denied"),  # the emergency path is another function
    ("segou_committee", "awa", "denied"),
    ("national_committee_a", "awa", "refused"),  # the branch committee is large enough
    ("member", "awa", "denied"),
]


@pytest.mark.parametrize(("approver", "submitter", "expected"), APPROVER_MATRIX)
def test_who_may_approve(
    request, bamako, segou, awa, funded, committee_b, committee_c, approver, submitter, expected
):
    if approver == "awa_on_committee":
        from union.models import RoleAssignment

        RoleAssignment.objects.create(
            member=awa, role=Role.WELFARE_COMMITTEE, branch=bamako, starts_on=_today()
        )
        actor = awa
    elif approver == "conflicted":
        actor = request.getfixturevalue("committee_a")
    elif approver == "segou_committee":
        actor = _officer(segou, Role.WELFARE_COMMITTEE)
    else:
        actor = request.getfixturevalue(approver)
    by = request.getfixturevalue(submitter) if submitter != "awa" else awa
    application = submit(awa, by=by)
    if approver == "conflicted":
        applications.declare_conflict(
            actor=actor.user, application=application, relationship="my cousin"
        )
    call = dict(actor=actor.user, application=application, amount=5000, reason="ok")
    if expected == "denied":
        with pytest.raises(PermissionDenied):
            applications.approve_application(**call)
    elif expected == "refused":
        with pytest.raises(ValidationError):
            applications.approve_application(**call)
    else:
        applications.approve_application(**call)
    recorded = Decision.objects.filter(application=application, verdict=Verdict.APPROVE)
    assert recorded.count() == (1 if expected == "counts" else 0)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING  # one approval is not enough


def test_two_distinct_approvals_approve_judged_by_todays_rule(
    awa, funded, committee_a, committee_b
):
    application = submit(awa, 20_000)
    approve(application, committee_a, amount=15_000)
    approve(application, committee_a, amount=15_000)  # the same person again: one approval
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    approve(application, committee_b, amount=15_000)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert (application.amount_requested, application.amount_granted) == (20_000, 15_000)
    assert application.decided_on == _today()
    assert application.rule == FundRule.objects.get(fund=funded)
    assert Notification.objects.filter(member=awa, kind="welfare_approved").count() == 1


def test_a_different_amount_is_a_change_that_needs_approvals_again(
    awa, funded, committee_a, committee_b, committee_c
):
    application = submit(awa, 20_000)
    approve(application, committee_a, amount=20_000)
    approve(application, committee_b, amount=12_000)  # not what A approved
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert application.version == 2
    approve(application, committee_c, amount=12_000)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.amount_granted == 12_000


def test_an_edit_after_approval_cancels_the_approvals(awa, funded, committee_a, committee_b):
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    assert application.status == ApplicationStatus.APPROVED
    edited = applications.edit_application(actor=awa.user, application=application, amount=30_000)
    assert edited.status == ApplicationStatus.PENDING
    assert edited.amount_granted is None and edited.version == 2
    approve(edited, committee_a, amount=30_000)
    edited.refresh_from_db()
    assert edited.status == ApplicationStatus.PENDING  # A's new approval alone is not enough


def test_a_payee_change_after_one_approval_cancels_it(awa, funded, committee_a, committee_b):
    application = approve(submit(awa), committee_a)
    applications.edit_application(
        actor=awa.user,
        application=application,
        payee=applications.Payee(
            kind="landlord",
            name="Mr Landlord",
            method="mobile_money",
            provider="Orange Money",
            destination="+22370000001",
        ),
    )
    approve(application, committee_b)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING


def test_an_old_approval_of_a_changed_application_records_nothing(
    awa, funded, committee_a, committee_b
):
    application = submit(awa)
    seen = application.version
    applications.edit_application(actor=awa.user, application=application, amount=12_000)
    with pytest.raises(ValidationError, match="changed since"):
        approve(application, committee_a, version=seen)
    assert not Decision.objects.exists()


def test_needs_information_returns_to_pending_when_answered(awa, funded, committee_a, committee_b):
    application = approve(submit(awa), committee_a)
    applications.ask_for_information(
        actor=committee_b.user, application=application, question="Which court?"
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.NEEDS_INFO
    with pytest.raises(ValidationError, match="more information"):
        approve(application, committee_b)
    applications.edit_application(
        actor=awa.user, application=application, note="Commune IV court, hearing Friday."
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    approve(application, committee_b)  # A's approval of this version still counts
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert Notification.objects.filter(member=awa, kind="welfare_needs_info").exists()


@pytest.mark.parametrize("status", ["rejected", "paid"])
def test_decisions_on_a_closed_application_change_nothing(
    status, approved, committee_a, committee_c, treasurer
):
    if status == "rejected":
        application = submit(approved.member, 5000)
        applications.reject_application(
            actor=committee_a.user, application=application, reason="not covered"
        )
    else:
        payouts.pay_application(
            actor=treasurer.user, application=approved, method="cash", paid_on=_today()
        )
        application = approved
    before = Decision.objects.count()
    for call in (
        lambda: approve(application, committee_c),
        lambda: applications.reject_application(
            actor=committee_c.user, application=application, reason="x"
        ),
        lambda: applications.ask_for_information(
            actor=committee_c.user, application=application, question="x"
        ),
        lambda: applications.edit_application(
            actor=application.member.user, application=application, amount=1
        ),
    ):
        with pytest.raises(ValidationError):
            call()
    application.refresh_from_db()
    assert application.status == status
    assert Decision.objects.count() == before


# --- the fund's rules -----------------------------------------------------------------------


def test_over_the_payout_limit_or_the_members_cap_is_refused(
    awa, funded, committee_a, committee_b, treasurer
):
    with pytest.raises(ValidationError, match="at most"):
        submit(awa, MAX_PAYOUT + 1)
    first = approve(submit(awa, MAX_PAYOUT), committee_a, committee_b)
    payouts.pay_application(
        actor=treasurer.user, application=first, method="cash", paid_on=_today()
    )
    with pytest.raises(ValidationError, match="12 months") as cap:
        submit(awa, MEMBER_CAP - MAX_PAYOUT + 1)
    assert "30\u00a0000" in str(cap.value) or "30,000" in str(cap.value)
    submit(awa, MEMBER_CAP - MAX_PAYOUT)


def test_the_waiting_period_counts_paid_months(awa, bamako, treasurer, committee_a, committee_b):
    fund = make_fund(bamako, Purpose.MEDICAL, 0, waiting_months=2, good_standing_required=False)
    from tests.dues.welfare.conftest import fill

    fill(fund, 50_000)
    with pytest.raises(ValidationError, match="2 months of dues; 0 paid"):
        submit(awa, purpose=Purpose.MEDICAL)
    charge(bamako, "2026-10", "2026-11")
    pay(treasurer, awa, 1000, "R1")
    with pytest.raises(ValidationError, match="1 paid"):
        submit(awa, purpose=Purpose.MEDICAL)
    pay(treasurer, awa, 1000, "R2")
    submit(awa, purpose=Purpose.MEDICAL)


def test_good_standing_when_the_fund_requires_it(awa, bamako, treasurer):
    make_fund(bamako, Purpose.FUNERAL, 0, good_standing_required=True)
    charge(bamako, "2026-04", "2026-05", "2026-06", "2026-07", "2026-08")
    with pytest.raises(ValidationError, match="good standing"):
        submit(awa, purpose=Purpose.FUNERAL)


def test_an_application_for_someone_who_is_not_a_member_is_refused(
    bamako, funded, committee_a, applicant
):
    with pytest.raises(ValidationError, match="Only members"):
        submit(applicant, by=committee_a)
    gone = MemberFactory(branch=bamako, status=MemberStatus.RESIGNED)
    with pytest.raises(ValidationError, match="Only members"):
        submit(gone, by=committee_a)
    assert not WelfareApplication.objects.exists()


def test_a_purpose_without_a_fund_is_refused(awa, funded):
    with pytest.raises(ValidationError, match="No fund"):
        submit(awa, purpose=Purpose.FUNERAL)


def test_the_decision_is_judged_by_the_rule_in_force_that_day(
    awa, funded, committee_a, committee_b, treasurer
):
    application = submit(awa, 40_000)
    funds.set_fund_rule(
        actor=treasurer.user,
        fund=funded,
        effective_from=_today(),
        share_bp=2000,
        max_payout=30_000,
        good_standing_required=False,
    )
    with pytest.raises(ValidationError, match="at most"):
        approve(application, committee_a, amount=40_000)
    approve(application, committee_a, committee_b, amount=30_000)
    application.refresh_from_db()
    assert application.rule.max_payout == 30_000


def test_approving_beyond_what_is_available_needs_an_explicit_override(
    awa, emergency_fund, committee_a, committee_b
):
    from tests.dues.welfare.conftest import fill

    fill(emergency_fund, 8000)
    application = submit(awa, 10_000)
    with pytest.raises(ValidationError, match="available"):
        approve(application, committee_a)
    approve(application, committee_a, committee_b, over_available=True)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert Decision.objects.filter(over_available=True).count() == 2
    assert AuditEvent.objects.filter(action=WelfareAction.OVERRIDE).count() == 2


# --- escalation --------------------------------------------------------------------------


def test_a_branch_with_too_few_eligible_members_hands_the_decision_to_the_national_committee(
    awa, funded, committee_a, committee_b, national_committee_a, national_committee_b
):
    application = submit(awa, by=committee_a)  # A submitted: only B is eligible in Bamako
    other = submit(awa)  # A and B may both approve this one: Bamako decides it
    with pytest.raises(ValidationError, match="national committee"):
        approve(application, committee_b)
    assert list(selectors.queue_for(national_committee_a.user)) == [application]
    assert set(selectors.queue_for(committee_b.user)) == {application, other}
    approve(application, national_committee_a, national_committee_b)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_the_branch_policy_sets_how_many_must_approve(
    awa, bamako, funded, treasurer, committee_a, committee_b, committee_c
):
    funds.set_welfare_policy(actor=treasurer.user, branch=bamako, approvals_required=3)
    application = approve(submit(awa), committee_a, committee_b)
    assert application.status == ApplicationStatus.PENDING
    approve(application, committee_c)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_a_conflict_declared_after_approving_withdraws_that_approval(
    awa, funded, committee_a, committee_b, committee_c
):
    application = approve(submit(awa), committee_a)
    applications.declare_conflict(
        actor=committee_a.user, application=application, relationship="we share a room"
    )
    approve(application, committee_b)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    approve(application, committee_c)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_the_database_refuses_a_decision_by_the_member_helped_or_a_conflicted_member(
    awa, funded, committee_a
):
    application = submit(awa)
    base = dict(
        application=application,
        version=1,
        amount=100,
        reason="x",
        applicant=awa,
        submitted_by=awa.user,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(verdict="approve", decided_by=committee_a.user, decider=awa, **base)
    with pytest.raises(IntegrityError, match="match"), transaction.atomic():
        Decision.objects.create(  # lying about who applied
            verdict="approve",
            decided_by=committee_a.user,
            decider=committee_a,
            **{**base, "applicant": committee_a},
        )
    applications.declare_conflict(actor=committee_a.user, application=application, relationship="x")
    with pytest.raises(IntegrityError, match="conflicted"), transaction.atomic():
        Decision.objects.create(
            verdict="approve", decided_by=committee_a.user, decider=committee_a, **base
        )


# --- the emergency path -----------------------------------------------------------------


@pytest.fixture
def emergency_limits(bamako, treasurer):
    return funds.set_welfare_policy(
        actor=treasurer.user,
        branch=bamako,
        approvals_required=2,
        emergency_max_payout=20_000,
        emergency_max_per_coordinator_month=30_000,
        emergency_max_per_member_year=25_000,
    )


def test_the_crisis_coordinator_approves_alone_within_the_limits(
    awa, funded, crisis_coordinator, emergency_limits
):
    application = applications.approve_emergency(
        actor=crisis_coordinator.user,
        application=submit(awa, 15_000),
        amount=15_000,
        reason="arrest tonight",
    )
    assert application.status == ApplicationStatus.APPROVED
    assert (application.emergency, application.review) == (True, Review.PENDING)


def test_emergency_limits_per_payout_coordinator_and_member(
    bamako, awa, funded, crisis_coordinator, emergency_limits
):
    def emergency(member, amount):
        return applications.approve_emergency(
            actor=crisis_coordinator.user,
            application=submit(member, amount),
            amount=amount,
            reason="now",
        )

    with pytest.raises(ValidationError, match="a payout"):
        emergency(awa, 20_001)
    emergency(awa, 20_000)
    with pytest.raises(ValidationError, match="a member in 12 months"):
        emergency(awa, 5001)
    other = MemberFactory(branch=bamako, with_login=True)
    with pytest.raises(ValidationError, match="each coordinator"):
        emergency(other, 10_001)
    emergency(other, 10_000)


def test_without_emergency_limits_there_is_no_emergency_path(awa, funded, crisis_coordinator):
    with pytest.raises(ValidationError, match="emergency path"):
        applications.approve_emergency(
            actor=crisis_coordinator.user, application=submit(awa), amount=100, reason="now"
        )


def test_a_later_committee_rejection_keeps_the_payment_and_counts_toward_the_cap(
    awa, funded, crisis_coordinator, emergency_limits, committee_a, committee_b, treasurer
):
    application = applications.approve_emergency(
        actor=crisis_coordinator.user,
        application=submit(awa, 20_000),
        amount=20_000,
        reason="bail",
    )
    payouts.pay_application(
        actor=treasurer.user, application=application, method="cash", paid_on=_today()
    )
    reviewed = applications.review_emergency(
        actor=committee_a.user, application=application, upheld=False, reason="not covered"
    )
    assert (reviewed.status, reviewed.review) == (ApplicationStatus.PAID, Review.REJECTED)
    approve(submit(awa, MAX_PAYOUT), committee_a, committee_b)  # 20 000 + 50 000
    with pytest.raises(ValidationError, match="12 months"):
        submit(awa, MEMBER_CAP - 20_000 - MAX_PAYOUT + 1)


def test_a_rejection_on_review_before_payment_rejects_the_application(
    awa, funded, crisis_coordinator, emergency_limits, committee_a
):
    from union.models import RoleAssignment

    application = applications.approve_emergency(
        actor=crisis_coordinator.user, application=submit(awa), amount=5000, reason="bail"
    )
    RoleAssignment.objects.create(  # also on the committee: still not their own review
        member=crisis_coordinator,
        role=Role.WELFARE_COMMITTEE,
        branch=awa.branch,
        starts_on=_today(),
    )
    crisis_coordinator.user.refresh_from_db()
    vars(crisis_coordinator.user).pop("_solidaire_roles", None)  # roles are cached per request
    with pytest.raises(ValidationError, match="Someone else"):
        applications.review_emergency(
            actor=crisis_coordinator.user, application=application, upheld=True, reason="x"
        )
    reviewed = applications.review_emergency(
        actor=committee_a.user, application=application, upheld=False, reason="no"
    )
    assert reviewed.status == ApplicationStatus.REJECTED


# --- documents ----------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


def test_documents_are_checked_by_content_stored_encrypted_and_read_by_the_committee(
    awa, funded, committee_a, treasurer
):
    application = submit(awa, uploads=[applications.Upload(PDF), applications.Upload(_png())])
    first, second = application.documents.order_by("id")
    assert (first.content_type, second.content_type) == ("application/pdf", "image/png")
    with first.file.open("rb") as handle:
        stored = handle.read()
    assert b"%PDF" not in stored  # encrypted at rest
    assert applications.read_document(actor=committee_a.user, document=first) == PDF
    assert AuditEvent.objects.filter(action=WelfareAction.DOCUMENT).count() == 1
    with pytest.raises(PermissionDenied):
        applications.read_document(actor=treasurer.user, document=first)
    with pytest.raises(PermissionDenied):
        applications.read_document(actor=awa.user, document=first)


@pytest.mark.parametrize(
    "content",
    [b"<html><script>alert(1)</script></html>", b"%PDF-1.4 but never ends", b"\x89PNG\r\n\x1a\nxx"],
)
def test_a_document_that_is_not_a_pdf_or_image_is_refused(awa, funded, content):
    with pytest.raises(ValidationError, match="PDF or a photo"):
        submit(awa, uploads=[applications.Upload(content)])
    assert not WelfareApplication.objects.exists()


def test_an_officer_applies_for_a_member_and_the_member_is_told(awa, funded, crisis_responder):
    application = submit(awa, by=crisis_responder)
    assert application.submitted_by == crisis_responder.user
    assert Notification.objects.filter(member=awa, kind="welfare_received").exists()


def test_someone_without_the_right_cannot_apply_for_another_member(awa, funded, treasurer, bamako):
    other = MemberFactory(branch=bamako, with_login=True)
    with pytest.raises(PermissionDenied):
        submit(awa, by=other)
    with pytest.raises(PermissionDenied):
        submit(awa, by=treasurer)


def test_a_mobile_money_payee_needs_a_readable_number(awa, funded):
    with pytest.raises(ValidationError) as bad:
        submit(
            awa,
            payee=applications.Payee(
                kind="member", method="mobile_money", provider="", destination="12"
            ),
        )
    assert {"payout_provider", "payout_destination"} <= set(bad.value.error_dict)


def test_only_the_member_and_the_submitter_change_an_application(
    awa, funded, crisis_responder, treasurer, committee_a
):
    application = submit(awa)
    payee = applications.Payee(
        kind="other",
        name="Me",
        method="mobile_money",
        provider="Orange",
        destination="+22370000077",
    )
    for outsider in (crisis_responder, treasurer, committee_a):
        with pytest.raises(PermissionDenied):
            applications.edit_application(actor=outsider.user, application=application, payee=payee)
    application.refresh_from_db()
    assert application.payout_destination == "" and application.version == 1
    mine = submit(awa, by=crisis_responder)
    edited = applications.edit_application(actor=crisis_responder.user, application=mine, amount=9)
    assert edited.amount_requested == 9
