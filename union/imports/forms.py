"""Forms of the import and export screens. Validation only: the work is in the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from union.forms import BranchChoiceField
from union.models import Branch

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Register file"),
        help_text=_("A CSV file (UTF-8 or Latin-1) or an Excel XLSX file."),
    )
    default_branch = BranchChoiceField(
        label=_("Branch for rows without a branch code (optional)"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=_("None: every row gives its branch"),
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["default_branch"]).queryset = branches
        self.fields["file"].widget.attrs["accept"] = f".csv,.xlsx,text/csv,{XLSX_TYPE}"
        mb = settings.IMPORT_MAX_BYTES / (1024 * 1024)
        self.fields["file"].help_text = _(
            "A CSV file (UTF-8 or Latin-1) or an Excel XLSX file, at most %(mb)s MB."
        ) % {"mb": f"{mb:.0f}"}


class ExportForm(forms.Form):
    branch = BranchChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=_("All my branches"),
    )
    format = forms.ChoiceField(
        label=_("File type"),
        choices=[("csv", _("CSV (any spreadsheet program)")), ("xlsx", _("Excel (XLSX)"))],
        initial="csv",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["branch"]).queryset = branches
