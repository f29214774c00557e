"""Writes for votes, one module per stage: drafting (create, choices, schedule, cancel,
open), casting (the secret ballot), assembly (check-in, paper tallies), counting (close,
count, publish, recount, roles). Import from the module that does the work.

Every function that changes something runs in one transaction and writes the audit log,
except casting: a ballot is in no audit table, and the voted mark is its own record.
"""
