"""Forms of crisis response. Validation only: writes go through crisis.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crisis.models import (
    AlertKind,
    CalloutType,
    CaseOutcome,
    CrisisSettings,
    Need,
    Outcome,
    Position,
    ShareRecipient,
    Source,
    Urgency,
)
from crisis.services.alerts import CRITERIA
from crisis.services.callouts import MAX_TEXT, CalloutDetails
from crisis.services.rota import SettingsSpec, SlotSpec
from crisis.sms import CONFIGURABLE
from union.forms import BranchChoiceField
from union.models import Branch, Member

WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
OFFICE_SOURCES = [(value, label) for value, label in Source.choices if value != Source.MEMBER]


def _text(label: Any, *, required: bool = False, rows: int = 0, help_text: Any = "") -> Any:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label, required=required, max_length=MAX_TEXT, widget=widget, help_text=help_text
    )


class CalloutForm(forms.Form):
    """An officer logs a call-out: the fewest fields that let the team act."""

    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    kind = forms.ChoiceField(label=_("What happened"), choices=CalloutType.choices)
    urgency = forms.TypedChoiceField(
        label=_("How urgent"),
        choices=Urgency.choices,
        coerce=int,
        widget=forms.RadioSelect,
        initial=Urgency.URGENT,
    )
    source = forms.ChoiceField(label=_("How it reached us"), choices=OFFICE_SOURCES)
    member_number = forms.CharField(
        label=_("Membership number"),
        required=False,
        max_length=20,
        help_text=_("If the person is a member. Leave empty otherwise."),
    )
    person_description = _text(
        _("Who needs help (if not a member)"),
        rows=2,
        help_text=_("Only what the team needs to find them: a first name, what they wear."),
    )
    needs = forms.MultipleChoiceField(
        label=_("What is needed"),
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    area = _text(
        _("Where (area)"), help_text=_("A neighbourhood or landmark; never a home address.")
    )
    narrative = _text(_("What happened"), rows=4)

    def __init__(self, *args: Any, branches: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]
        if branches.count() == 1:
            self.fields["branch"].initial = branches.first()

    def details(self) -> CalloutDetails:
        data = self.cleaned_data
        return CalloutDetails(
            kind=data["kind"],
            urgency=data["urgency"],
            needs=list(data["needs"]),
            area=data["area"],
            narrative=data["narrative"],
            person_description=data["person_description"],
        )


class ReportForm(forms.Form):
    """A member reports for herself or a colleague: short, plain, works on any phone."""

    who = forms.ChoiceField(
        label=_("Who needs help?"),
        choices=[("me", _("Me")), ("other", _("Someone else"))],
        widget=forms.RadioSelect,
        initial="me",
    )
    kind = forms.ChoiceField(label=_("What happened?"), choices=CalloutType.choices)
    danger = forms.ChoiceField(
        label=_("Is someone in danger right now?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
        initial="yes",
    )
    person_description = _text(
        _("If it is someone else: how will the team know them?"),
        rows=2,
        help_text=_("A first name or nickname, what they wear. No surnames."),
    )
    area = _text(_("Where? (area or landmark)"))
    needs = forms.MultipleChoiceField(
        label=_("What is needed?"),
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    narrative = _text(_("Anything else the team should know"), rows=3)

    def details(self) -> CalloutDetails:
        data = self.cleaned_data
        return CalloutDetails(
            kind=data["kind"],
            urgency=Urgency.URGENT if data["danger"] == "yes" else Urgency.TODAY,
            needs=list(data["needs"]),
            area=data["area"],
            narrative=data["narrative"],
            person_description=data["person_description"] if data["who"] == "other" else "",
        )


class NoteForm(forms.Form):
    text = _text(_("Add a note"), required=True, rows=3)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)


class _TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TeamChoiceField(forms.ModelChoiceField):
    """A member of the branch's crisis team, by working name and number."""

    def label_from_instance(self, obj: Member) -> str:  # type: ignore[override]
        return f"{obj.working_name} ({obj.number})"


def _offer_team(form: forms.Form, name: str, team: list[Member]) -> None:
    form.fields[name].queryset = Member.objects.filter(  # type: ignore[attr-defined]
        pk__in=[m.pk for m in team]
    ).order_by("working_name")


class SlotForm(forms.Form):
    position = forms.ChoiceField(label=_("Position"), choices=Position.choices)
    responder = TeamChoiceField(label=_("Responder"), queryset=Member.objects.none())
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4, 5, 6],
    )
    starts_at = forms.TimeField(label=_("From (local time)"), widget=_TimeInput())
    ends_at = forms.TimeField(
        label=_("Until (local time)"),
        widget=_TimeInput(),
        help_text=_("An end before the start runs through midnight; the same time is 24 hours."),
    )
    valid_from = forms.DateField(label=_("First day"), widget=_DateInput())
    valid_until = forms.DateField(label=_("Last day"), widget=_DateInput(), required=False)
    temporary = forms.BooleanField(
        label=_("Temporary: replaces the regular rota on these days"), required=False
    )

    def __init__(self, *args: Any, team: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_team(self, "responder", team)

    def spec(self) -> SlotSpec:
        data = self.cleaned_data
        return SlotSpec(
            position=data["position"],
            responder=data["responder"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            weekdays=sum(1 << day for day in data["weekdays"]),
            temporary=data["temporary"],
        )


class SwapForm(forms.Form):
    responder = TeamChoiceField(label=_("Who covers"), queryset=Member.objects.none())
    first_day = forms.DateField(label=_("First day"), widget=_DateInput())
    last_day = forms.DateField(label=_("Last day"), widget=_DateInput())

    def __init__(self, *args: Any, team: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_team(self, "responder", team)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day comes before the first."))
        return data


KEYWORD_LABELS = {
    "ok": _("Words for OK (going)"),
    "no": _("Words for NO (cannot go)"),
    "arrived": _("Words for ARRIVED"),
    "done": _("Words for DONE"),
    "help": _("Words for HELP"),
}


class SettingsForm(forms.Form):
    answer_minutes = forms.IntegerField(
        label=_("Minutes to answer an alert before it goes to the next person"),
        min_value=1,
        max_value=240,
    )
    urgent_answer_minutes = forms.IntegerField(
        label=_("The same for urgent call-outs"), min_value=1, max_value=240
    )
    arrive_minutes = forms.IntegerField(
        label=_("Minutes to confirm arrival after accepting"), min_value=5, max_value=720
    )
    chain_repeats = forms.IntegerField(
        label=_("Times the whole chain is tried again before a call-out shows as unanswered"),
        min_value=0,
        max_value=10,
    )
    retention_days = forms.IntegerField(
        label=_("Days after closing before names, places and stories are erased"),
        min_value=30,
        max_value=3650,
    )

    def __init__(self, data: Any = None, *, instance: CrisisSettings) -> None:
        initial: dict[str, Any] = {
            "answer_minutes": instance.answer_minutes,
            "urgent_answer_minutes": instance.urgent_answer_minutes,
            "arrive_minutes": instance.arrive_minutes,
            "chain_repeats": instance.chain_repeats,
            "retention_days": instance.retention_days,
        }
        for action in CONFIGURABLE:
            initial[f"kw_{action.value}"] = ", ".join(
                (instance.keywords or {}).get(action.value, [])
            )
        super().__init__(data, initial=initial)
        for action in CONFIGURABLE:
            self.fields[f"kw_{action.value}"] = forms.CharField(
                label=KEYWORD_LABELS[action.value],
                required=False,
                max_length=300,
                help_text=_("Separated by commas, in the team's languages."),
            )

    def spec(self) -> SettingsSpec:
        data = self.cleaned_data
        return SettingsSpec(
            answer_minutes=data["answer_minutes"],
            urgent_answer_minutes=data["urgent_answer_minutes"],
            arrive_minutes=data["arrive_minutes"],
            chain_repeats=data["chain_repeats"],
            retention_days=data["retention_days"],
            keywords={a.value: data[f"kw_{a.value}"] for a in CONFIGURABLE},
        )


class AlertForm(forms.Form):
    """A draft safety alert: one text per language of the branch."""

    kind = forms.ChoiceField(label=_("About"), choices=AlertKind.choices)
    days = forms.IntegerField(
        label=_("Days before it expires"), min_value=1, max_value=90, initial=30
    )
    from_outreach = forms.BooleanField(label=_("Reported by an outreach worker"), required=False)
    consent_recorded = forms.BooleanField(
        label=_("The member who reported it agreed to this alert"), required=False
    )

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        self.languages = languages
        for i, lang in enumerate(languages):
            self.fields[f"text_{lang}"] = forms.CharField(
                label=_("The alert in %(language)s") % {"language": names.get(lang, lang)},
                required=i == 0,
                max_length=480,
                widget=forms.Textarea(attrs={"rows": 4, "lang": lang}),
                help_text=_(
                    "What the danger is and how to recognise it. Nothing about the member "
                    "who reported it."
                )
                if i == 0
                else "",
            )

    def texts(self) -> dict[str, str]:
        return {lang: self.cleaned_data.get(f"text_{lang}", "") for lang in self.languages}


class ReviewForm(forms.Form):
    criteria = forms.MultipleChoiceField(
        label=_("Before publishing, check that"),
        choices=list(CRITERIA.items()),
        widget=forms.CheckboxSelectMultiple,
    )


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class CaseForm(forms.Form):
    paralegal = TeamChoiceField(
        label=_("Paralegal or human rights defender"),
        queryset=Member.objects.none(),
        required=False,
    )
    lawyer = _text(_("Lawyer or legal-aid partner referred to"), rows=2)
    notes = _text(_("Notes"), rows=4)

    def __init__(self, *args: Any, team: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_team(self, "paralegal", team)


class CourtDateForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Date and time (local)"),
        widget=_DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    place = _text(_("Court"))


class CaseCloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CaseOutcome.choices)


class ShareForm(forms.Form):
    recipient_kind = forms.ChoiceField(label=_("Share with"), choices=ShareRecipient.choices)
    recipient = forms.CharField(label=_("Who exactly"), max_length=300, required=False)
    consent = forms.BooleanField(
        label=_("The member agreed that this report may be shared (consent recorded)"),
        help_text=_(
            "For the police, tick it only if the person who reported it agreed to the police "
            "having it, for this sharing."
        ),
        required=False,
    )
