"""Welfare funds: the union's money out, to members in sickness, arrest, eviction and death.

A fund (per branch, or national) is an account of its own with an append-only ledger
(FundEntry): its share of every dues payment flows in inside the payment's transaction and
flows back out with the payment's correction; donations, grants and approved transfers
come in; payouts and provider fees go out. A member (or an officer, or a crisis responder
on their behalf) applies; the branch welfare committee decides with several distinct
approvers (or the crisis coordinator alone, within limits, reviewed afterwards); a
treasurer who took no part pays. Members see each fund's figures without names.

Imported by dues.models, so these are models of the dues app (migrations in
dues/migrations). Written only through dues.welfare.services.
"""
