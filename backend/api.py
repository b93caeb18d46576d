"""Shared building blocks of the API views."""

import django_filters
from django import forms
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination: stable pages while cooperatives edit, and no COUNT(*) per request."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 100


class SparseFieldsMixin:
    """``?fields=id,name_zh`` answers with only those fields: smaller payloads for phones on
    weak mobile networks. Unknown names are a 400, not silently ignored."""

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        request = self.request
        raw = request.query_params.get("fields") if request is not None else None
        if not raw or request.method != "GET":
            return serializer
        target = (
            serializer.child if isinstance(serializer, serializers.ListSerializer) else serializer
        )
        wanted = {name.strip() for name in raw.split(",") if name.strip()}
        unknown = wanted - set(target.fields)
        if unknown:
            raise ValidationError(
                {
                    "fields": [
                        f"Unknown field(s): {', '.join(sorted(unknown))}. "
                        f"Available: {', '.join(target.fields)}."
                    ]
                }
            )
        for name in set(target.fields) - wanted:
            target.fields.pop(name)
        return serializer


def bounded_id_regex() -> str:
    """Ids in URLs: digits only and short enough for a bigint, so a huge number is a 404."""
    return r"[0-9]{1,18}"


class IdFilter(django_filters.NumberFilter):
    """A filter by primary key: a whole number in bigint range, else a 400 naming the field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**62)
        super().__init__(*args, **kwargs)
