"""Public screens: the landing page and the join form. Light, plain, no JavaScript needed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from union.forms import ApplicationForm, add_service_errors
from union.models import Branch
from union.services import members as member_services

JOINED_KEY = "joined"


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


@never_cache
def join(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_services.register_applicant(
                actor=None,
                branch=form.cleaned_data["branch"],
                working_name=form.cleaned_data["working_name"],
                preferred_language=request.LANGUAGE_CODE,
                contact_preference=form.cleaned_data["contact_preference"],
                contact=form.contact(),
                consent_sms=form.cleaned_data["consent_sms"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Only what the thank-you page needs: the branch and the way chosen, no name.
            request.session[JOINED_KEY] = {
                "branch": form.cleaned_data["branch"].pk,
                "contact": form.cleaned_data["contact_preference"],
            }
            return redirect("union:join_thanks")
    return render(request, "public/join.html", {"form": form})


@never_cache
def join_thanks(request: HttpRequest) -> HttpResponse:
    """Says what happens next as the applicant chose it, and how to reach the branch."""
    joined = request.session.get(JOINED_KEY) or {}
    branch_id = joined.get("branch")
    branch = (
        Branch.objects.filter(pk=branch_id, is_national=False).first()
        if isinstance(branch_id, int)
        else None
    )
    return render(
        request,
        "public/join_thanks.html",
        {"branch": branch, "contact": joined.get("contact", "")},
    )
