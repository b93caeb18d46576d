"""DRF's serializers, with number, date and id fields that take only what the API documents.

Apps import ``from backend import serializers`` instead of DRF's module, so every integer,
decimal, date and id input of the API is checked here, once:

- Python's ``int()`` and ``Decimal()`` accept any Unicode digit (``"１０"``, ``"٣"``) and DRF
  passes them through; an id written ``1.5`` was read as 1. Only JSON numbers and ASCII
  digit strings are numbers here, and an id must be a whole number.
- An integer without bounds reaches the database unchecked; here it is bounded to a
  bigint, so an absurd one is a 400 naming the field rather than an overflow.
- A date-time in year 1 overflows when DRF moves it to the server's time zone; here it is
  refused as invalid.
"""

import copy
import re

from django.utils.translation import get_language
from rest_framework import serializers as drf
from rest_framework.serializers import *  # noqa: F403  DRF's names, overridden below
from rest_framework.validators import UniqueTogetherValidator

BIGINT_MAX = 2**63 - 1

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_plain_integer(data) -> bool:
    """A JSON integer or a string of ASCII digits; not a bool, a float or another script's
    digits."""
    if isinstance(data, bool):
        return False
    if isinstance(data, int):
        return True
    return isinstance(data, str) and bool(_INTEGER.fullmatch(data.strip()))


class IntegerField(drf.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not is_plain_integer(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecimalField(drf.DecimalField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not data.isascii()):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(drf.DateField):
    """ISO dates (YYYY-MM-DD) in ASCII digits."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not _DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class DateTimeField(drf.DateTimeField):
    """ISO 8601 date-times. One at the edge of what Python holds (``0001-01-01``) cannot be
    moved to the server's time zone (an OverflowError, a 500): refused as invalid."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")


class PrimaryKeyRelatedField(drf.PrimaryKeyRelatedField):
    """An id: a whole number in bigint range (every model of the project has integer keys)."""

    def check_id(self, data) -> None:
        if not is_plain_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not -BIGINT_MAX <= int(data) <= BIGINT_MAX:
            self.fail("does_not_exist", pk_value=data)

    def to_internal_value(self, data):
        self.check_id(data)
        return super().to_internal_value(data)


class SlugRelatedField(drf.SlugRelatedField):
    """A row named by a slug (a certification's code). A NUL in it is no slug of ours, and
    PostgreSQL refuses it in a query (a 500): refused as naming no row."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class WholeItemMixin:
    """Items of a nested list are whole, even in a PATCH. DRF's ``partial`` reaches nested
    serializers and skips their required fields, so a PATCHed tier without a price, or a
    standing-order line without a listing, got through to the service (a KeyError, a 500).
    A list replaces the whole table, so each of its items must be complete. Every serializer
    of the project has this (``Serializer`` and ``ModelSerializer`` below)."""

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if isinstance(self.parent, drf.ListSerializer) and getattr(self.root, "partial", False):
            missing = {
                name: [drf.Field.default_error_messages["required"]]
                for name, field in self.fields.items()
                if field.required and not field.read_only and field.source not in attrs
            }
            if missing:
                raise drf.ValidationError(missing)
        return attrs


class Serializer(WholeItemMixin, drf.Serializer):
    pass


_STRICT = {
    drf.IntegerField: IntegerField,
    drf.DecimalField: DecimalField,
    drf.DateField: DateField,
    drf.DateTimeField: DateTimeField,
}


class FieldsNamedUniqueTogether:
    """DRF's check of a set of fields unique together (a store's name within its
    organisation), refusing with the fields named: DRF's own message names no field, and the
    one error shape says which fields are at fault."""

    requires_context = True

    def __init__(self, validator: UniqueTogetherValidator):
        self.validator = validator

    def __call__(self, attrs, serializer):
        try:
            self.validator(attrs, serializer)
        except drf.ValidationError as exc:
            if not isinstance(exc.detail, list):
                raise  # a field of the set is missing: already named
            raise drf.ValidationError({name: exc.detail for name in self.validator.fields}) from exc


class ModelSerializer(WholeItemMixin, drf.ModelSerializer):
    """Fields built from model fields use the strict classes above too."""

    serializer_field_mapping = {
        model_field: _STRICT.get(field, field)
        for model_field, field in drf.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_related_field = PrimaryKeyRelatedField

    def get_fields(self):
        """DRF builds a model serializer's fields from the model on every instantiation
        (introspection, labels through gettext, validators): a third of a placed order's
        CPU, for an answer with nested parts and lines. They depend only on the class and on
        the language (DRF words a unique field's message when it builds the field), so they
        are built once per class and language, then copied as DRF copies declared fields
        (unbound, so each serializer binds its own); subclasses adjust the copy as before."""
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = type(self)._built_fields = {}
        language = get_language()
        prototypes = built.get(language)
        if prototypes is None:
            prototypes = built[language] = super().get_fields()
        return copy.deepcopy(prototypes)

    def get_unique_together_validators(self):
        return [FieldsNamedUniqueTogether(v) for v in super().get_unique_together_validators()]


STRICT_FIELDS = (IntegerField, DecimalField, DateField, DateTimeField, PrimaryKeyRelatedField)
LOOSE_FIELDS = (
    drf.IntegerField,
    drf.DecimalField,
    drf.DateField,
    drf.DateTimeField,
    drf.PrimaryKeyRelatedField,
)


class ServerSetChoiceField(drf.ChoiceField):
    """A choice a client may set (``choices``) among more the server answers
    (``read_choices``): a listing's status is set to draft, active or paused, and reads back
    sold_out too. The schema says each side (backend.schema's extension): a client generated
    from it must accept every value it reads, and send only those it may write."""

    def __init__(self, *, choices, read_choices, **kwargs):
        self.read_choices = list(read_choices)
        super().__init__(choices=choices, **kwargs)
