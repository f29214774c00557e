"""The guard every office screen goes through: signed in, second factor, permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from union import permissions
from union.permissions import Perm

View = Callable[..., HttpResponse]


class OfficeRequest(HttpRequest):
    """A request that passed office_view: the user is signed in (and verified if an officer)."""

    user: User


def needs_second_factor(request: HttpRequest) -> bool:
    user = request.user
    return permissions.is_office_bearer(user) and not user.is_verified()  # type: ignore[union-attr]


def office_view(*perms: Perm) -> Callable[[View], View]:
    """Allow the view only to verified office bearers holding one of `perms` somewhere
    (with no perms: to every office bearer, an editor too).

    Branch-level checks (is this member in one of *their* branches?) are the view's
    job, through the selectors, which return nothing outside the user's scope.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if perms and not any(permissions.has_perm(request.user, p) for p in perms):
                raise PermissionDenied
            if not perms and not permissions.is_office_bearer(request.user):
                raise PermissionDenied
            if needs_second_factor(request):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('union:two_factor')}?{query}")
            response = view(request, *args, **kwargs)
            response.headers["Cache-Control"] = "no-store"
            return response

        return wrapped

    return decorator
