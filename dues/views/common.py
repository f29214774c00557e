from __future__ import annotations

from typing import Any

from django.http import Http404

from dues import selectors
from dues.models import LedgerEntry
from union.models import Branch, Member
from union.permissions import Perm
from union.views.guards import OfficeRequest


def chosen_branch(request: OfficeRequest, perm: Perm = Perm.VIEW_LEDGER) -> Branch:
    """The branch named by ?branch=CODE among the user's, or their first one."""
    branches = selectors.branches_for(request.user, perm)
    code = (request.GET.get("branch") or request.POST.get("branch") or "").upper()
    branch = branches.filter(code=code).first() if code else None
    branch = branch or branches.first()
    if branch is None:
        raise Http404
    return branch


def member_in_scope(request: OfficeRequest, public_id: Any, perm: Perm) -> Member:
    member = selectors.members_for_dues(request.user, perm).filter(public_id=public_id).first()
    if member is None:
        # The same answer for a member who does not exist and one of another branch.
        raise Http404
    return member


def entry_in_scope(request: OfficeRequest, public_id: Any) -> LedgerEntry:
    entry = selectors.ledger_for(request.user).filter(public_id=public_id).first()
    if entry is None:
        raise Http404
    return entry
