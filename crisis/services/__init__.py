"""Writes of crisis response. Every change to a call-out, a dispatch, a deadline or the
rota goes through a function here: typed, keyword-only, taking the acting user (None or a
member for an SMS reply), one transaction, row locks, an audit entry, side effects
(texts through the outbox) after commit.

- callouts: logging, member reports, notes, closing, merging
- dispatch: alerting the chain, the escalation sweep
- answers: going, cannot go, arrived, done (office screen and SMS alike)
- replies: inbound SMS and delivery reports
- rota: slots, swaps, branch settings
- upkeep: the sweep's watchdog, freeing reply codes
"""
