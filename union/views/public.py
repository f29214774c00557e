"""Public screens: the landing page and the join form. Light, plain, no JavaScript needed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from union.forms import ApplicationForm, add_service_errors
from union.services import members as member_services


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
            return redirect("union:join_thanks")
    return render(request, "public/join.html", {"form": form})


def join_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "public/join_thanks.html")
