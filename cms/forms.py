"""The admin's image form (settings.WAGTAILIMAGES_IMAGE_FORM_BASE): a damaged file is a
form error, not a server error."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image as PILImage
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

UNREADABLE = _(
    "This picture could not be read: the file is damaged or incomplete. "
    "Save it again from the phone or computer it came from, or choose another one."
)


class ReadableImageField(WagtailImageField):
    """Wagtail's checks read the header only; a truncated or corrupt file then fails later,
    while saving or resizing (an OSError, a server error). Decode it all here, once the
    size checks (which guard against decompression bombs) have passed."""

    def to_python(self, data: Any) -> Any:
        try:
            f = super().to_python(data)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValidationError(UNREADABLE, code="unreadable_image") from exc
        if f is None or f.image.format_name == "svg":
            return f
        try:
            f.seek(0)
            with PILImage.open(f) as picture:
                picture.load()
        except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
            raise ValidationError(UNREADABLE, code="unreadable_image") from exc
        finally:
            f.seek(0)
        return f


class ImageForm(BaseImageForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if field is not None and not isinstance(field, ReadableImageField):
            self.fields["file"] = ReadableImageField(
                label=field.label,
                required=field.required,
                widget=field.widget,
                help_text=field.help_text,
            )
