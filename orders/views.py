from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from backend.api import SparseFieldsMixin, bounded_id_regex
from backend.exports import CSV, XLSX, FileActionsMixin, as_csv, as_xlsx, file_response
from backend.idempotency import IdempotentCreateMixin, idempotent

from . import access, exports, selectors, spreadsheets
from .filters import FulfilmentFilter, OrderFilter
from .models import Fulfilment, Order
from .serializers import (
    ConfirmSerializer,
    DeliverSerializer,
    FulfilmentDetailSerializer,
    FulfilmentSerializer,
    OrderCreateSerializer,
    OrderEventSerializer,
    OrderSerializer,
    PackSerializer,
    PurchaseImportSerializer,
    PurchaseImportUploadSerializer,
    ReasonSerializer,
    RejectSerializer,
    StandingOrderSerializer,
)
from .services import imports, placement, standing, transitions

# An export reads at most this many orders: more is a 400 asking for narrower filters.
EXPORT_MAX_ORDERS = 5000
# What a multipart body may add to its file (boundaries, part headers), before refusing it
# from its Content-Length alone.
MULTIPART_OVERHEAD = 64 * 1024

# Read-only use: to_representation changes nothing on the serializer, so one instance serves
# every request (and every thread) once its fields are built.
PLACED_ANSWER = OrderSerializer()


class OrderViewSet(
    FileActionsMixin,
    SparseFieldsMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Bulk orders. A purchasing team sees its organisation's orders; staff see all.
    Cooperatives work on their parts through /fulfilments/."""

    serializer_class = OrderSerializer
    permission_classes = [access.PurchasingTeamPermission]
    idempotent_actions = ("reorder",)  # documented with the Idempotency-Key header
    lookup_value_regex = bounded_id_regex()
    filterset_class = OrderFilter
    ordering_fields = ["id", "created_at", "total"]

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)

    def _answer(self, order: Order, code=status.HTTP_200_OK) -> Response:
        order = self.get_queryset().get(pk=order.pk)
        return Response(self.get_serializer(order).data, status=code)

    def _placed(self, placed: placement.Placement) -> Response:
        """A new order, answered from the objects placing it made: read back, it would be
        the same, for three more queries. The answer's shape depends on nothing in the
        request (no sparse fields on a POST, no field that asks who reads), so one
        serializer, built once, writes every placement's answer: building the nested fields
        for each request cost a sixth of a placement's CPU."""
        answer = PLACED_ANSWER.to_representation(placed.order_as_read())
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer})
    def create(self, request):
        """Place an order: all lines reserved or none (409 with what is available). Send an
        Idempotency-Key to retry safely."""

        def place():
            data = OrderCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            lines = [
                placement.LineRequest(line["listing"], line["quantity"])
                for line in data.validated_data["lines"]
            ]
            result = placement.order_place(
                user=request.user,
                store=data.validated_data["store"],
                lines=lines,
                requested_delivery_date=data.validated_data.get("requested_delivery_date"),
                note=data.validated_data["note"],
            )
            return self._placed(result)

        # Written first: placing is all database work, so a replay may do it and roll back.
        return idempotent(request, place, look_first=False)

    @extend_schema(
        summary=gettext_lazy("Cancel an order"), request=ReasonSerializer, responses=OrderSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Buyers cancel before confirmation; staff any time before shipping."""
        order = self.get_object()  # first: a row the user cannot see is a 404, whatever the body
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = transitions.order_cancel(
            order=order, user=request.user, reason=data.validated_data["reason"]
        )
        return self._answer(order)

    @extend_schema(
        summary=gettext_lazy("Approve an order"), request=None, responses=OrderSerializer
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """An approver releases an order above the organisation's threshold."""
        order = transitions.order_approve(order=self.get_object(), user=request.user)
        return self._answer(order)

    @extend_schema(
        summary=gettext_lazy("Place an order again"), request=None, responses={201: OrderSerializer}
    )
    @action(detail=True, methods=["post"])
    def reorder(self, request, pk=None):
        """Place the same lines again to the same store, at today's prices."""
        source = self.get_object()
        return idempotent(
            request,
            lambda: self._placed(placement.order_reorder(order=source, user=request.user)),
            look_first=False,
        )

    def _export(self) -> list[list]:
        queryset = self.filter_queryset(self.get_queryset().order_by("-pk"))
        orders = list(queryset[: EXPORT_MAX_ORDERS + 1])
        if len(orders) > EXPORT_MAX_ORDERS:
            raise ValidationError(
                {
                    "placed_after": [
                        _("More than %(max)s orders: narrow the export with filters.")
                        % {"max": EXPORT_MAX_ORDERS}
                    ]
                }
            )
        return exports.order_rows(orders)

    @extend_schema(
        summary=gettext_lazy("Export orders as CSV"),
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="csv", pagination_class=None)
    def as_csv(self, request):
        """The orders the list would show (same filters), one row per line; UTF-8 with a
        byte-order mark. Headers in the request's language."""
        return file_response(as_csv(self._export()), CSV, "orders.csv")

    @extend_schema(
        summary=gettext_lazy("Export orders as XLSX"),
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="xlsx", pagination_class=None)
    def as_xlsx(self, request):
        """The orders the list would show (same filters), one row per line."""
        return file_response(as_xlsx(self._export(), "orders"), XLSX, "orders.xlsx")

    @extend_schema(
        summary=gettext_lazy("List an order's events"), responses=OrderEventSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, pk=None):
        """Every change of the order: who, when, from, to, note."""
        events = selectors.order_events(order=self.get_object())
        return Response(OrderEventSerializer(events, many=True).data)


class FulfilmentViewSet(
    SparseFieldsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Each cooperative's part of an order. Managers see their cooperatives' parts with the
    pick list (which lots, which households); buyers their organisation's; staff all.
    Transitions are POSTs; an illegal one is a 409 that lists the allowed moves."""

    permission_classes = [access.FulfilmentPermission]
    lookup_value_regex = bounded_id_regex()
    filterset_class = FulfilmentFilter
    ordering_fields = ["id"]

    def get_queryset(self):
        return selectors.fulfilment_list(user=self.request.user)

    def get_serializer_class(self):
        # The pick list costs a few queries per part: on the detail, not on every list row.
        return FulfilmentSerializer if self.action == "list" else FulfilmentDetailSerializer

    def _move(self, move, body=None) -> Response:
        """Make ``move(fulfilment, validated body)`` on the part the URL names and answer the
        part as the move left it, from the rows the move locked and wrote: no read before
        (the move locks the part itself) and none after. Whether the user may see the part
        is asked only when the body or the move is refused, so that a part the user cannot
        see is a 404 whatever the body (get_object), at no cost to a move that succeeds.
        Someone who cannot see a part is no actor on it either (actors_for), so the move
        refuses before writing anything."""
        data = {}
        if body is not None:
            serializer = body(data=self.request.data)
            if not serializer.is_valid():
                self.get_object()
                raise ValidationError(serializer.errors)
            data = serializer.validated_data
        try:
            fulfilment = move(Fulfilment(pk=int(self.kwargs["pk"])), data)
        except Exception:
            self.get_object()
            raise
        return Response(self.get_serializer(fulfilment).data)

    @extend_schema(
        summary=gettext_lazy("Confirm a fulfilment (in full or short)"),
        request=ConfirmSerializer,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm in full, or short by naming lines with lower quantities."""
        return self._move(
            lambda fulfilment, data: transitions.fulfilment_confirm(
                fulfilment=fulfilment,
                user=request.user,
                quantities={line["line"]: line["quantity"] for line in data.get("lines", [])},
            ),
            ConfirmSerializer,
        )

    @extend_schema(
        summary=gettext_lazy("Reject a fulfilment"),
        request=RejectSerializer,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._move(
            lambda fulfilment, data: transitions.fulfilment_reject(
                fulfilment=fulfilment, user=request.user, reason=data["reason"]
            ),
            RejectSerializer,
        )

    @extend_schema(
        summary=gettext_lazy("Pack a fulfilment"),
        request=PackSerializer,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def pack(self, request, pk=None):
        def pack(fulfilment, data):
            picks: dict[int, list] = {}
            for pick in data.get("picks", []):
                picks.setdefault(pick["line"], []).append((pick["lot"], pick["quantity"]))
            return transitions.fulfilment_pack(
                fulfilment=fulfilment, user=request.user, picks=picks
            )

        return self._move(pack, PackSerializer)

    @extend_schema(
        summary=gettext_lazy("Ship a fulfilment"),
        request=None,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        return self._move(
            lambda fulfilment, _data: transitions.fulfilment_ship(
                fulfilment=fulfilment, user=request.user
            )
        )

    @extend_schema(
        summary=gettext_lazy("Record a delivery"),
        request=DeliverSerializer,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """The store records what it accepted, line by line."""
        return self._move(
            lambda fulfilment, data: transitions.fulfilment_deliver(
                fulfilment=fulfilment,
                user=request.user,
                accepted={
                    line["line"]: (line["accepted_quantity"], line["issue"], line["note"])
                    for line in data.get("lines", [])
                },
            ),
            DeliverSerializer,
        )

    @extend_schema(
        summary=gettext_lazy("Complete a fulfilment"),
        request=None,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._move(
            lambda fulfilment, _data: transitions.fulfilment_complete(
                fulfilment=fulfilment, user=request.user
            )
        )

    @extend_schema(
        summary=gettext_lazy("Cancel a fulfilment"),
        request=ReasonSerializer,
        responses=FulfilmentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._move(
            lambda fulfilment, data: transitions.fulfilment_cancel(
                fulfilment=fulfilment, user=request.user, reason=data["reason"] or "cancelled"
            ),
            ReasonSerializer,
        )


class StandingOrderViewSet(SparseFieldsMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Recurring orders: placed by a beat job once per week on their weekday, as normal
    orders; a run that could not be placed in full is recorded and e-mailed to the team.
    DELETE deactivates: the standing order and its run history stay."""

    serializer_class = StandingOrderSerializer
    permission_classes = [access.PurchasingTeamPermission]
    lookup_value_regex = bounded_id_regex()

    def get_queryset(self):
        return selectors.standing_order_list(user=self.request.user)

    def perform_create(self, serializer):
        access.check_orders_for_organisation(user=self.request.user)
        data = dict(serializer.validated_data)
        serializer.instance = standing.standing_order_create(user=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = standing.standing_order_update(
            standing=serializer.instance, data=serializer.validated_data, user=self.request.user
        )

    # 200 with the deactivated standing order, not DELETE's usual empty 204.
    @extend_schema(responses={200: StandingOrderSerializer})
    def destroy(self, request, *args, **kwargs):
        """Deactivate (not delete): its runs are the record of what was ordered. Switch it
        back on with PATCH {"is_active": true}."""
        deactivated = standing.standing_order_deactivate(
            standing=self.get_object(),
            reason=_("Deactivated by %(name)s.") % {"name": request.user.name},
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=deactivated.pk)).data)


class PurchaseImportViewSet(
    SparseFieldsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Purchase lists: upload a CSV or XLSX and get a preview (each row resolved or refused,
    grouped into the orders it would make); place the preview to make those orders, once.
    A purchasing team sees its organisation's; staff all."""

    serializer_class = PurchaseImportSerializer
    permission_classes = [access.PurchasingTeamPermission]
    parser_classes = [MultiPartParser]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]

    def get_queryset(self):
        return selectors.purchase_import_list(user=self.request.user)

    def _answer(self, purchase_import, code=status.HTTP_200_OK) -> Response:
        purchase_import = self.get_queryset().get(pk=purchase_import.pk)
        return Response(self.get_serializer(purchase_import).data, status=code)

    @extend_schema(
        request={"multipart/form-data": PurchaseImportUploadSerializer},
        responses={201: PurchaseImportSerializer},
    )
    def create(self, request):
        """Upload a purchase list (multipart, field ``file``): the answer is its preview, with
        any row's errors. A file over the limit is refused from its Content-Length, before
        it is read (413); one that cannot be read as a purchase list is a 400 naming why."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        spreadsheets.check_size(max(length - MULTIPART_OVERHEAD, 0))

        def preview():
            data = PurchaseImportUploadSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            upload = data.validated_data["file"]
            spreadsheets.check_size(upload.size)
            made = imports.purchase_import_preview(
                user=request.user, file_name=upload.name or "", content=upload.read()
            )
            return self._answer(made, status.HTTP_201_CREATED)

        return idempotent(request, preview)

    @extend_schema(
        summary=gettext_lazy("Place a purchase list's orders"),
        request=None,
        responses=PurchaseImportSerializer,
    )
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        """Make the preview's orders, one per store, all or none, through the same checks
        as POST /orders/ (a refusal names the file's row). Placing it again answers the same
        orders. A preview with errors, or expired, is a 409."""
        placed = imports.purchase_import_place(user=request.user, purchase_import=self.get_object())
        return self._answer(placed)
