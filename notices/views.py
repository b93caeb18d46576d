from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api import CursorPagination, SparseFieldsMixin, bounded_id_regex

from . import access, selectors, services
from .filters import InboxFilter, OutboxFilter
from .serializers import InboxNoticeSerializer, MarkedSerializer, OutboxNoticeSerializer


class InboxPagination(CursorPagination):
    """A page of the inbox, with the user's unread count beside it (one cheap query: a phone
    polls this, with If-None-Match, to draw its badge)."""

    unread = 0

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread"] = self.unread
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread"] = {
            "type": "integer",
            "minimum": 0,
            "description": "Unread notices in the whole inbox.",
        }
        schema["required"] = [*schema.get("required", []), "unread"]
        return schema


class NoticeViewSet(
    SparseFieldsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Your own notices (the inbox), newest first, in your language. Poll the list with
    If-None-Match: an unchanged inbox answers 304."""

    serializer_class = InboxNoticeSerializer
    permission_classes = [access.InboxPermission]
    pagination_class = InboxPagination
    filterset_class = InboxFilter
    lookup_value_regex = bounded_id_regex()

    def get_queryset(self):
        return selectors.inbox(user=self.request.user)

    def list(self, request, *args, **kwargs):
        self.paginator.unread = selectors.unread_count(user=request.user)
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Mark a notice read"), request=None, responses=InboxNoticeSerializer
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark it read (again is harmless: it keeps the first time)."""
        notice = services.notice_mark_read(notice=self.get_object())
        return Response(InboxNoticeSerializer(notice).data)

    @extend_schema(
        summary=gettext_lazy("Mark every notice read"), request=None, responses=MarkedSerializer
    )
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[])
    def read_all(self, request):
        marked = services.notices_mark_all_read(user=request.user)
        return Response(MarkedSerializer({"marked": marked}).data)


class OutboxViewSet(
    SparseFieldsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Staff: every notice of the outbox with its delivery record (attempts, the last
    answer's status code and latency, the last error). ``?status=failed`` lists what gave up
    after its last try; replay sends it again."""

    serializer_class = OutboxNoticeSerializer
    permission_classes = [access.OutboxPermission]
    filterset_class = OutboxFilter
    lookup_value_regex = bounded_id_regex()

    def get_queryset(self):
        return selectors.outbox(user=self.request.user)

    @extend_schema(
        summary=gettext_lazy("Replay a failed notice"),
        request=None,
        responses=OutboxNoticeSerializer,
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Try a failed notice again, with a fresh round of attempts (409 unless failed)."""
        notice = services.notice_replay(notice=self.get_object())
        return Response(OutboxNoticeSerializer(notice).data)
