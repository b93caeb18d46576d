import django_filters

from backend.api import BooleanFilter, FilterSet, IdFilter

from . import catalog
from .models import Notice


class InboxFilter(FilterSet):
    unread = BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notice
        fields = ["unread"]


class OutboxFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=Notice.Status.choices)
    channel = django_filters.ChoiceFilter(choices=[(c, c) for c in catalog.CHANNELS])
    event_type = django_filters.ChoiceFilter(choices=[(t, t) for t in catalog.TABLE])
    user = IdFilter(field_name="user_id")

    class Meta:
        model = Notice
        fields = ["status", "channel", "event_type", "user"]
