"""Tests written for the embedded default (SQLite, what `make run` gives).

The SQLite twins of tests that can only run on PostgreSQL, and behaviour the embedded
default depends on that had no test of its own. All of them run in make test's SQLite
leg (they are marked `embedded`); those marked vendor("sqlite") skip on PostgreSQL, the
others run in both legs.
"""
