"""Fixtures these tests share with the app test folders, imported from there unchanged.

- bko_plan: Bamako's dues plan, 1 000 XOF a month, 3 grace months (tests/dues/).
- make_vote: an open vote of Bamako, created and opened by the secretary (tests/votes/).
- sensitive_members: two members whose legal names, phones, emails and notes are markers
  that appear nowhere else (tests/union/test_encryption.py).
"""

from tests.dues.conftest import bko_plan
from tests.union.test_encryption import sensitive_members
from tests.votes.conftest import make_vote

__all__ = ["bko_plan", "make_vote", "sensitive_members"]
