"""Signing in, the second factor for office bearers, first passwords, and one's own profile."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from union import permissions
from union.exports import CONTENT_TYPES, write_spreadsheet
from union.forms import ContactDetailsForm, ForgetMeForm, SetPasswordWithCodeForm, SignInForm
from union.http import safe_next
from union.middleware import remember_member_language
from union.models import AuditAction
from union.personal_data import cell_text, csv_rows, sections_for
from union.registry import DataSection
from union.services import accounts as account_services
from union.services import erasure
from union.services import members as member_services
from union.services.audit import record_member_access
from union.views.guards import OfficeRequest

# Set once a password is set with a code: the sign-in form that follows is filled in with
# the number (kept in the session, never in an address a shared phone's history keeps).
PREFILL_KEY = "sign_in_number"


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        number = self.request.session.pop(PREFILL_KEY, None)
        if number:
            initial["username"] = number
        return initial

    def get_success_url(self) -> str:
        """Where the user asked to go; else officers to the office (after the second
        factor), members to their own account."""
        officer = permissions.is_office_bearer(self.request.user)
        url = self.get_redirect_url() or reverse("union:office" if officer else "union:profile")
        if officer:
            return f"{reverse('union:two_factor')}?{urlencode({'next': url})}"
        return url


def _qr_data_uri(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@never_cache
@login_required
def two_factor(request: OfficeRequest) -> HttpResponse:
    """Set up (first time) or check the TOTP code of an office bearer."""
    user = request.user
    next_url = safe_next(request, "/office/")
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(next_url)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
    if device is None:
        device = account_services.start_two_factor(user=user)
    error = ""
    if request.method == "POST":
        token = "".join(ch for ch in request.POST.get("token", "") if ch.isdigit())
        try:
            if setting_up:
                device = account_services.confirm_two_factor(user=user, device=device, token=token)
            elif not (token and device.verify_token(token)):
                raise ValidationError(account_services.WRONG_CODE)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            otp_login(request, device)
            return redirect(next_url)
    context: dict[str, Any] = {"setting_up": setting_up, "error": error, "next": next_url}
    if setting_up:
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr"] = _qr_data_uri(device.config_url)
    return render(request, "registration/two_factor.html", context)


@never_cache
def set_password(request: HttpRequest) -> HttpResponse:
    """A new member turns the one-time code from the secretary into a password."""
    form = SetPasswordWithCodeForm(request.POST or None, initial={"username": request.GET.get("u")})
    if request.method == "POST" and form.is_valid():
        try:
            member_services.set_password_with_code(
                username=form.cleaned_data["username"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your password is set. You can sign in now."))
            request.session[PREFILL_KEY] = form.cleaned_data["username"].strip().upper()
            return redirect("union:login")
    return render(request, "registration/set_password.html", {"form": form})


@never_cache
@login_required
def profile(request: OfficeRequest) -> HttpResponse:
    """A member's own record: what the union holds about them, and how to be reached."""
    member = getattr(request.user, "member", None)
    if member is None:
        return render(request, "account/no_member.html")
    form = ContactDetailsForm(request.POST or None, member=member, own=True)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        language = form.cleaned_data["preferred_language"]
        with translation.override(language):  # the next page speaks the language just chosen
            messages.success(request, _("Saved."))
        remember_member_language(request, language)
        response = redirect("union:profile")
        response.delete_cookie("language")
        return response
    return render(request, "account/profile.html", {"member": member, "form": form})


def _her_data(request: OfficeRequest) -> list[DataSection] | None:
    """The signed-in member's own data, audited as a copy given to her; None without a
    member record."""
    member = getattr(request.user, "member", None)
    if member is None:
        return None
    record_member_access(actor=request.user, action=AuditAction.MEMBER_DATA, member=member)
    return sections_for(request.user)


@never_cache
@login_required
def my_data(request: OfficeRequest) -> HttpResponse:
    """What the union holds on the signed-in member, as a page she can print (or save)."""
    sections = _her_data(request)
    if sections is None:
        return render(request, "account/no_member.html")
    tables = [
        (section, [[cell_text(value) for value in row] for row in section.rows])
        for section in sections
    ]
    return render(request, "account/my_data.html", {"tables": tables})


@never_cache
@login_required
def my_data_csv(request: OfficeRequest) -> HttpResponse:
    """The same, as a CSV file (one line per item, whatever part it belongs to)."""
    sections = _her_data(request)
    if sections is None:
        return render(request, "account/no_member.html")
    headers = [_("Part"), _("Line"), _("Item"), _("Value")]
    content = b"".join(write_spreadsheet("csv", headers, csv_rows(sections), sheet="data"))
    response = HttpResponse(content, content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = 'attachment; filename="my-data.csv"'
    return response


@never_cache
@login_required
def forget_me(request: OfficeRequest) -> HttpResponse:
    """A member asks to be forgotten: her password, a confirmation, then her details and
    her login are erased and she is signed out."""
    member = getattr(request.user, "member", None)
    if member is None:
        return render(request, "account/no_member.html")
    form = ForgetMeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        erasure.erase_member(actor=request.user, member=member)
        logout(request)
        return render(request, "account/forgotten.html")
    return render(
        request,
        "account/forget_me.html",
        {"member": member, "form": form},
        status=400 if request.method == "POST" else 200,
    )
