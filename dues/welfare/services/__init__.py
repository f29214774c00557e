"""Writes to the welfare funds. Typed, keyword-only functions taking the acting user, one
transaction each, row locks, an audit row, messages queued in the outbox (sent on commit).

- shares: the funds' share of dues, called by dues.services.ledger (no actor: the system)
- funds: funds, rules, decision rules, donations and grants, transfers between funds
- applications: applying, editing, documents, conflicts, committee and emergency decisions
- payouts: paying an approved application, reversing a failed payout
- exports: the fund ledger for auditors and donors
"""
