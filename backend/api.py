"""Shared building blocks of the API views. Settings name the filter backends and the
pagination class here, so this module must not import DRF's views (see viewsets.py)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, pagination, serializers
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination: stable pages while cooperatives edit, and no COUNT(*) per request.

    A cursor is client input like any other: one whose position does not fit the ordering
    field (text where an id belongs, a decimal beyond the column) is a 400 naming
    ``cursor``, checked before it reaches the database. So is a page_size that is not a
    whole number of ASCII digits; one above the maximum is capped to it."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.lstrip("0")
        if not (raw.isascii() and raw.isdigit() and digits):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Enter a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        # Past a few digits it is over the maximum anyway; int() of thousands would fail.
        too_long = len(digits) > len(str(self.max_page_size))
        return self.max_page_size if too_long else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                # Above the maximum is capped, not refused: only the minimum is a rule.
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = str(
                    _("Results per page, 1 or more; at most %(max)s are answered.")
                    % {"max": self.max_page_size}
                )
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = str(
                    _(
                        "Opaque: only a value taken from a previous page's next or previous "
                        "link. Any other value is a 400."
                    )
                )
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset = queryset  # decode_cursor checks the position against its fields
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        invalid = ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        if cursor is None or cursor.position is None:
            return cursor
        field = _ordering_field(self._queryset, self.ordering[0].lstrip("-"))
        try:
            if "\x00" in cursor.position or not hasattr(field, "clean"):  # NUL: not in text
                raise DjangoValidationError("not a position")
            field.clean(cursor.position, None)
        except DjangoValidationError:
            raise invalid from None
        return cursor


def _ordering_field(queryset, path: str):
    """The model field (or annotation's output field) a cursor position is compared with."""
    annotation = queryset.query.annotations.get(path)
    if annotation is not None:
        return annotation.output_field
    model = queryset.model
    *relations, name = path.split(LOOKUP_SEP)
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


class SparseFieldsMixin:
    """``?fields=id,name_zh`` answers with only those fields: smaller payloads for phones on
    weak mobile networks. Unknown names are a 400, not silently ignored."""

    def requested_fields(self, available) -> set[str] | None:
        """The fields the client asked for, or None for all of them."""
        raw = self.request.query_params.get("fields") if self.request is not None else None
        if not raw or self.request.method != "GET":
            return None
        wanted = {name.strip() for name in raw.split(",") if name.strip()}
        unknown = wanted - set(available)
        if unknown:
            raise ValidationError(
                {
                    "fields": [
                        _("Unknown fields: %(unknown)s. Available: %(available)s.")
                        % {"unknown": ", ".join(sorted(unknown)), "available": ", ".join(available)}
                    ]
                }
            )
        return wanted

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        target = (
            serializer.child if isinstance(serializer, serializers.ListSerializer) else serializer
        )
        wanted = self.requested_fields(list(target.fields))
        if wanted is not None:
            for name in set(target.fields) - wanted:
                target.fields.pop(name)
        return serializer


def bounded_id_regex() -> str:
    """Ids in URLs: digits only and short enough for a bigint, so a huge number is a 404."""
    return r"[0-9]{1,18}"


ID_FILTER_MAX = 2**62


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_FILTER_MAX})
class IdFilter(django_filters.NumberFilter):
    """A filter by primary key: a whole number in bigint range, else a 400 naming the field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_FILTER_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.TypedChoiceFilter):
    """true or false, nothing else: a typo is a 400, not a filter silently ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


# Form fields whose values are numbers or dates: Python reads any script's digits in them
# ("１０" is 10), so they take ASCII only, as the body's fields do (backend.serializers).
_ASCII_ONLY = (forms.IntegerField, forms.DecimalField, forms.FloatField, forms.DateField)


class FilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }

    def is_valid(self):
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            raw = self.form.data.get(name)
            if isinstance(field, _ASCII_ONLY) and raw and not raw.isascii():
                self.form.add_error(name, _("Use ASCII digits (0-9)."))
                valid = False
        return valid


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering. Where a view names no ``ordering_fields``, DRF allows every field of
    its serializer, relations included: ordering by a reverse or many-to-many relation
    repeats rows and leaves no position for a cursor. Here only the model's own columns
    (and annotations) among them."""

    def get_default_valid_fields(self, queryset, view, context=None):
        fields = super().get_default_valid_fields(queryset, view, context or {})
        columns = {f.name for f in queryset.model._meta.concrete_fields}
        return [
            (name, label)
            for name, label in fields
            if name in columns | set(queryset.query.annotations)
        ]

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        try:
            names = [name for name, _label in self.get_valid_fields(view.get_queryset(), view)]
        except Exception:  # a view whose queryset needs a real user: no enum then
            return parameters
        for parameter in parameters:
            if parameter["name"] == self.ordering_param and names:
                parameter["schema"] = {
                    "type": "string",
                    "enum": [f"{sign}{name}" for name in names for sign in ("", "-")],
                }
                parameter["description"] = str(
                    _("Order by one field, or several separated by commas; - for descending.")
                )
        return parameters


class SearchFilter(filters.SearchFilter):
    """DRF's search, with bad input named: ``search`` is the field at fault."""

    max_length = 100

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if "\x00" in value:
            raise ValidationError({self.search_param: [_("Null characters are not allowed.")]})
        if len(value) > self.max_length:
            raise ValidationError(
                {
                    self.search_param: [
                        _("Search for at most %(max)s characters.") % {"max": self.max_length}
                    ]
                }
            )
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.search_param:
                parameter["schema"] = {
                    "type": "string",
                    "maxLength": self.max_length,
                    "pattern": "^[^\\u0000]*$",
                }
        return parameters


class FilterBackend(DjangoFilterBackend):
    """django-filter, with our FilterSet (strict booleans) for filterset_fields too."""

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        # With no filter parameter in the query, django-filter would still build and validate
        # its form (deep copies of every field) to filter nothing: most list requests.
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name)  # prefix: range filters read name_min, name_after, ...
            for param in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
