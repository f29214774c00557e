"""Writes to the union's money. Every change to a plan, an account or the ledger goes
through a function here: typed, keyword-only, taking the acting user (None = the system:
the monthly run, Stripe), one transaction, row locks, an audit entry, side effects on commit.

- plans: dues plans and members' rates
- ledger: cash and mobile-money payments, confirmations, waivers, corrections, card
  payments and refunds booked from Stripe events
- runs: the monthly charge run, lapsing, reminders
- cashbook: the daily close
- card: Stripe checkout, subscriptions, webhook events, reconciliation
"""
