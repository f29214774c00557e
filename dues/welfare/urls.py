"""Welfare screens, included under /dues/ in the dues namespace (names start welfare_)."""

from __future__ import annotations

from django.urls import path

from dues.welfare.views import committee, funds, member, reconciliation, treasurer

urlpatterns = [
    path("welfare/", member.my_welfare, name="welfare_my"),
    path("welfare/apply/", member.apply, name="welfare_apply"),
    path("welfare/funds/", member.funds, name="welfare_funds"),
    path("welfare/<uuid:public_id>/", member.my_application, name="welfare_mine"),
    path("office/welfare/", committee.home, name="welfare_office"),
    path("office/welfare/queue/", committee.queue, name="welfare_queue"),
    path("office/welfare/apply/", committee.apply_for_member, name="welfare_apply_for"),
    path(
        "office/welfare/applications/<uuid:public_id>/",
        committee.application_detail,
        name="welfare_application",
    ),
    path(
        "office/welfare/applications/<uuid:public_id>/approve/",
        committee.approve,
        name="welfare_approve",
    ),
    path(
        "office/welfare/applications/<uuid:public_id>/reject/",
        committee.reject,
        name="welfare_reject",
    ),
    path("office/welfare/applications/<uuid:public_id>/ask/", committee.ask, name="welfare_ask"),
    path(
        "office/welfare/applications/<uuid:public_id>/conflict/",
        committee.conflict,
        name="welfare_conflict",
    ),
    path(
        "office/welfare/applications/<uuid:public_id>/emergency/",
        committee.emergency,
        name="welfare_emergency",
    ),
    path(
        "office/welfare/applications/<uuid:public_id>/review/",
        committee.review,
        name="welfare_review",
    ),
    path("office/welfare/applications/<uuid:public_id>/pay/", treasurer.pay, name="welfare_pay"),
    path("office/welfare/documents/<uuid:public_id>/", committee.document, name="welfare_document"),
    path("office/welfare/unpaid/", treasurer.unpaid, name="welfare_unpaid"),
    path("office/welfare/loans/", treasurer.loans_list, name="welfare_loans"),
    path(
        "office/welfare/applications/<uuid:public_id>/repay/",
        treasurer.repay,
        name="welfare_repay",
    ),
    path("office/welfare/reconciliation/", reconciliation.queue, name="welfare_reconciliation"),
    path(
        "office/welfare/reconciliation/statement/",
        reconciliation.statement,
        name="welfare_statement",
    ),
    path("office/welfare/reconciliation/run/", reconciliation.run, name="welfare_reconcile"),
    path(
        "office/welfare/reconciliation/items/<int:pk>/explain/",
        reconciliation.explain,
        name="welfare_explain",
    ),
    path(
        "office/welfare/payouts/<uuid:public_id>/reverse/",
        treasurer.reverse_payout,
        name="welfare_reverse_payout",
    ),
    path(
        "office/welfare/repayments/<uuid:public_id>/reverse/",
        treasurer.reverse_repayment,
        name="welfare_reverse_repayment",
    ),
    path("office/welfare/funds/new/", funds.fund_new, name="welfare_fund_new"),
    path("office/welfare/funds/<uuid:public_id>/", funds.fund_detail, name="welfare_fund"),
    path("office/welfare/funds/<uuid:public_id>/rules/", funds.fund_rule, name="welfare_rule"),
    path("office/welfare/funds/<uuid:public_id>/gift/", funds.fund_gift, name="welfare_gift"),
    path(
        "office/welfare/funds/<uuid:public_id>/transfer/",
        funds.fund_transfer,
        name="welfare_transfer",
    ),
    path(
        "office/welfare/transfers/<uuid:public_id>/",
        funds.transfer_decide,
        name="welfare_transfer_decide",
    ),
    path("office/welfare/policy/<str:code>/", funds.policy, name="welfare_policy"),
    path("office/welfare/export/", funds.export, name="welfare_export"),
]
