from django.db import models
from django.utils.translation import gettext_lazy as _

from .validators import normalize_cn_phone


class PhoneField(models.CharField):
    """A mainland China phone number, stored as E.164 (+8613812345678). Validation (full_clean,
    which every service runs) turns what people type — "138 1234 5678", "0851-8555 1234" —
    into that form, or refuses it."""

    description = _("Phone number (E.164)")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 16:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_cn_phone(value) if value else value
