from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from crisis import selectors
from crisis.models import Callout
from union import permissions
from union.models import Branch
from union.permissions import Perm
from union.views.guards import OfficeRequest

M = TypeVar("M", bound=Model)


def chosen_branch(request: OfficeRequest, perm: Perm = Perm.VIEW_CALLOUTS) -> Branch | None:
    """The branch named by ?branch=CODE among the user's; None for "all of them" when
    the user has several and named none."""
    branches = selectors.branches_for(request.user, perm)
    code = (request.GET.get("branch") or request.POST.get("branch") or "").upper()
    if code:
        branch = branches.filter(code=code).first()
        if branch is None:
            raise Http404
        return branch
    if branches.count() == 1:
        return branches.first()
    return None


def one_branch(request: OfficeRequest, perm: Perm) -> Branch:
    """A screen about a single branch: the named one, or the user's first."""
    branch = chosen_branch(request, perm) or selectors.branches_for(request.user, perm).first()
    if branch is None:
        raise Http404
    return branch


def callout_in_scope(request: OfficeRequest, public_id: Any, perm: Perm) -> Callout:
    callout = selectors.callout_for(request.user, public_id, perm)
    if callout is None:
        # The same answer for a call-out that does not exist and one of another branch.
        raise Http404
    return callout


def in_scope(queryset: QuerySet[M], request: OfficeRequest, perm: Perm, **lookup: Any) -> M:
    """The one row of `queryset` matching `lookup` in the user's branches for `perm`; 404
    alike for one that does not exist and one of another branch."""
    found = permissions.visible(queryset, request.user, perm).filter(**lookup).first()
    if found is None:
        raise Http404
    return found
