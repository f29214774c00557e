"""Forms for the member register. Validation only: writes go through union.services."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union.models import STATUS_TRANSITIONS, Branch, ContactPreference, Member, MemberStatus, Role
from union.phones import normalise_phone, region_for_currency
from union.services.members import ContactDetails
from union.validators import validate_person_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Names are shown everywhere; refuse markup and control characters outright rather than
# trusting every template to escape them (they are escaped as well).
_FORBIDDEN_NAME = re.compile(r"[<>{}\[\]\\`$=;\x00-\x1f\x7f]")


class DateInput(forms.DateInput):
    """A browser date picker. Its value is always written the ISO way (2026-11-15): a
    localised one (15/11/2026 in French) leaves the picker empty, and a required date
    then stops the form without a word."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a form, next to the right field when it names one.

    Every app's views use this one (a field the form lacks becomes a form-wide error).
    """
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def clean_name(value: str, *, required: bool) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationError(_("Please give a name."), code="required")
    validate_person_name(value)
    if _FORBIDDEN_NAME.search(value):
        raise ValidationError(
            _("Names can use letters, spaces, dots, apostrophes and hyphens only."), code="name"
        )
    return value


class BranchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Branch) -> str:  # type: ignore[override]
        return f"{obj.name}" + (f" ({obj.region})" if obj.region and obj.region != obj.name else "")


class ApplicationForm(forms.Form):
    """The public join form: as short as we can make it."""

    working_name = forms.CharField(
        label=_("The name you want us to use"),
        help_text=_("It does not have to be your legal name."),
        max_length=100,
    )
    branch = BranchChoiceField(
        label=_("Where are you?"), queryset=Branch.objects.none(), empty_label=_("Choose…")
    )
    contact_preference = forms.ChoiceField(
        label=_("How can we reach you?"),
        choices=ContactPreference.choices,
        initial=ContactPreference.NONE,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(label=_("Phone number (optional)"), max_length=32, required=False)
    email = forms.CharField(label=_("Email (optional)"), max_length=254, required=False)
    consent_sms = forms.BooleanField(
        label=_("You may send me text messages (SMS)."), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(is_national=False).order_by("name")  # type: ignore[attr-defined]
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs.update({"inputmode": "email", "autocomplete": "email"})
        self.fields["working_name"].widget.attrs.update({"autocomplete": "nickname"})

    def clean_working_name(self) -> str:
        return clean_name(self.cleaned_data["working_name"], required=True)

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        if email:
            validate_email(email)
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        branch = data.get("branch")
        raw_phone = data.get("phone") or ""
        if raw_phone:
            try:
                region = region_for_currency(branch.currency) if branch else None
                data["phone"] = normalise_phone(raw_phone, region)
            except ValidationError as exc:
                self.add_error("phone", exc)
        pref = data.get("contact_preference")
        if pref in (ContactPreference.SMS, ContactPreference.CALL) and not data.get("phone"):
            self.add_error("phone", _("Give a phone number, or choose another way to reach you."))
        if pref == ContactPreference.EMAIL and not data.get("email"):
            self.add_error("email", _("Give an email address, or choose another way to reach you."))
        return data

    def contact(self) -> ContactDetails:
        return ContactDetails(
            phone=self.cleaned_data.get("phone", ""),
            email=self.cleaned_data.get("email", ""),
            legal_name=self.cleaned_data.get("legal_name", ""),
            notes=self.cleaned_data.get("notes", ""),
        )


class AssistedRegistrationForm(ApplicationForm):
    """Registration by an office bearer during outreach: the same, plus what they may note."""

    legal_name = forms.CharField(
        label=_("Legal name (only if truly needed)"), max_length=200, required=False
    )
    preferred_language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    consent_crisis_contact = forms.BooleanField(
        label=_("Agrees to be contacted by the crisis team"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, branches: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if branches is not None:
            self.fields["branch"].queryset = branches  # type: ignore[attr-defined]
        self.fields["working_name"].label = _("Working name")
        self.fields["branch"].label = _("Branch")

    def clean_legal_name(self) -> str:
        return clean_name(self.cleaned_data.get("legal_name", ""), required=False)


OWN_LABELS = {
    "legal_name": _("Your legal name (only if you want us to have it)"),
    "phone": _("Your phone number"),
    "email": _("Your email"),
    "preferred_language": _("Your language"),
    "contact_preference": _("How should we reach you?"),
    "consent_sms": _("You may send me text messages (SMS)."),
    "consent_crisis_contact": _("The crisis team may contact me."),
}


class ContactDetailsForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=32, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    contact_preference = forms.ChoiceField(
        label=_("How to reach them"), choices=ContactPreference.choices, widget=forms.RadioSelect
    )
    consent_sms = forms.BooleanField(label=_("Agrees to SMS alerts"), required=False)
    consent_crisis_contact = forms.BooleanField(
        label=_("Agrees to be contacted by the crisis team"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, member: Member, own: bool = False, **kwargs: Any) -> None:
        initial = {name: getattr(member, name) for name in self.base_fields}
        if own and member.pending_phone:
            # What the member typed, even when it was not kept: the page must not tell.
            initial["phone"] = member.pending_phone
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.member = member
        if own:
            # The member's own page speaks to them; officers read about the member.
            del self.fields["notes"]
            for name, label in OWN_LABELS.items():
                self.fields[name].label = label

    def save(self, *, actor: User) -> bool:
        """Write the details through the service; False (errors on the form) if refused."""
        from union.services.members import update_contact_details

        try:
            update_contact_details(
                actor=actor,
                member=self.member,
                contact=self.contact(),
                preferred_language=self.cleaned_data["preferred_language"],
                contact_preference=self.cleaned_data["contact_preference"],
                consent_sms=self.cleaned_data["consent_sms"],
                consent_crisis_contact=self.cleaned_data["consent_crisis_contact"],
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
            return False
        return True

    def clean_legal_name(self) -> str:
        return clean_name(self.cleaned_data.get("legal_name", ""), required=False)

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        if email:
            validate_email(email)
        return email

    def clean_phone(self) -> str:
        return normalise_phone(
            self.cleaned_data.get("phone", ""), region_for_currency(self.member.branch.currency)
        )

    def contact(self) -> ContactDetails:
        return ContactDetails(
            legal_name=self.cleaned_data["legal_name"],
            phone=self.cleaned_data["phone"],
            email=self.cleaned_data["email"],
            notes=self.cleaned_data.get("notes", self.member.notes),
        )


class ApproveForm(forms.Form):
    create_login = forms.BooleanField(
        label=_("Create a login and a one-time code to set a password"), required=False
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the record, not sent)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = STATUS_TRANSITIONS[member.status] - {MemberStatus.REJECTED}
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in MemberStatus.choices if value in allowed
        ]


class RoleAssignmentForm(forms.Form):
    member_number = forms.CharField(label=_("Membership number"), max_length=20)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    branch = BranchChoiceField(label=_("Branch or national level"), queryset=Branch.objects.none())
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    ends_on = forms.DateField(
        label=_("Ends on (optional)"),
        widget=DateInput(),
        required=False,
    )

    def __init__(self, *args: Any, branches: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]
        self.fields["starts_on"].initial = timezone.localdate()

    def clean_member_number(self) -> str:
        return self.cleaned_data["member_number"].strip().upper()


class SignInForm(AuthenticationForm):
    """Django's sign-in form, speaking the union's words: members sign in with their
    membership number, and a refusal says what to do next."""

    error_messages = {
        "invalid_login": _(
            "That membership number and password do not match. Check both, or ask your "
            "branch secretary for a new code."
        ),
        "inactive": _("This login is switched off. Ask your branch secretary."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = _("Membership number")
        username.widget.attrs.update({"autocapitalize": "characters", "spellcheck": "false"})
        # Django sets the field's max_length after making it, so nothing checks it: a longer
        # name would reach the lockout records (255 characters) and fail there.
        username.validators.append(MaxLengthValidator(getattr(username, "max_length", None) or 150))


class SetPasswordWithCodeForm(forms.Form):
    username = forms.CharField(label=_("Membership number"), max_length=20)
    code = forms.CharField(label=_("Code"), max_length=20)
    new_password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        from django.contrib.auth.password_validation import validate_password

        data = super().clean() or {}
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", _("The two passwords are not the same."))
        elif p1:
            try:
                validate_password(p1)
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


class BranchContactForm(forms.Form):
    helpline = forms.CharField(
        label=_("Helpline"),
        help_text=_("A number anyone may call. It is shown on the public site."),
        max_length=32,
        required=False,
    )
    address = forms.CharField(
        label=_("Drop-in centre address"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        required=False,
    )
    hours = forms.CharField(
        label=_("Opening hours"),
        help_text=_("For example: Monday to Friday, 9:00 to 17:00."),
        max_length=200,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["helpline"].widget.attrs.update({"inputmode": "tel"})


class EraseMemberForm(forms.Form):
    """The office's confirmation of an erasure: the officer types the member's number (an
    applicant, who has none, by her working name), so that no slip erases the wrong one."""

    confirm = forms.CharField(label=_("Type the membership number to confirm"), max_length=100)

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = member.number or member.working_name
        if not member.number:
            self.fields["confirm"].label = _("Type the working name to confirm")

    def clean_confirm(self) -> str:
        typed = " ".join(self.cleaned_data["confirm"].split())
        if typed.casefold() != self.expected.casefold():
            raise ValidationError(_("That is not this member's number."), code="confirm")
        return typed


class ForgetMeForm(forms.Form):
    """A member's own request to be forgotten: her password (the phone may be shared), and
    that she understands it cannot be undone."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understood = forms.BooleanField(
        label=_("I understand: my details and my login will be erased, and this cannot be undone.")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="password")
        return password


class MoveInForm(forms.Form):
    """The receiving officer takes in a member of another branch. First her number and the
    branch she joins; then, to confirm (`member` given), the same two hidden, the branch
    she is leaving (so that a move made meanwhile by someone else is noticed) and the
    questions the apps ask (union.registry's move steps, fields named "<step>_<field>")."""

    number = forms.CharField(label=_("Her membership number"), max_length=20)
    to_branch = BranchChoiceField(label=_("Branch she joins"), queryset=Branch.objects.none())
    from_branch = forms.CharField(widget=forms.HiddenInput, required=False, max_length=8)

    def __init__(
        self,
        *args: Any,
        user: User,
        branches: Any,
        steps: Any = (),
        member: Member | None = None,
        to_branch: Branch | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.member = member
        self.steps = list(steps)
        self.fields["to_branch"].queryset = branches  # type: ignore[attr-defined]
        if member is None:
            if len(branches) == 1:
                self.fields["to_branch"].initial = branches[0]
            return
        if to_branch is None:
            raise TypeError("A member to confirm needs the branch she joins.")
        self.fields["number"].widget = forms.HiddenInput()
        self.fields["to_branch"].widget = forms.HiddenInput()
        for step in self.steps:
            for name, field in step.fields(member, to_branch).items():
                self.fields[f"{step.name}_{name}"] = field

    def clean_number(self) -> str:
        from union import selectors

        number = self.cleaned_data["number"].strip().upper()
        self.member = selectors.member_to_take_in(self.user, number)
        if self.member is None:
            raise ValidationError(
                _("No member has the number %(number)s. Check it with her."),
                params={"number": number},
                code="unknown",
            )
        return number

    def clean(self) -> dict[str, Any]:
        from union.services import moves

        cleaned = super().clean() or {}
        to_branch = cleaned.get("to_branch")
        if self.member is not None and to_branch is not None:
            try:
                moves.check_move(actor=self.user, member=self.member, to_branch=to_branch)
            except ValidationError as exc:
                add_service_errors(self, exc)
        return cleaned

    def step_answers(self) -> dict[str, dict[str, Any]]:
        return {
            step.name: {
                key.removeprefix(f"{step.name}_"): value
                for key, value in self.cleaned_data.items()
                if key.startswith(f"{step.name}_")
            }
            for step in self.steps
        }

    def add_step_errors(self, exc: ValidationError) -> None:
        """A service's errors, next to the step's field they name when there is one."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            names = [field] + [f"{step.name}_{field}" for step in self.steps]
            self.add_error(next((n for n in names if n in self.fields), None), errors)
