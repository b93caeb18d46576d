from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api import SparseFieldsMixin, bounded_id_regex
from backend.exports import CSV, XLSX, FileActionsMixin, as_csv, as_xlsx, file_response
from backend.idempotency import idempotent
from backend.viewsets import ResourceViewSet

from . import access, exports, selectors, services
from .filters import DeliveryNoteFilter
from .serializers import (
    DelaySerializer,
    DeliveryNoteLinkSerializer,
    ManifestSerializer,
    RunSerializer,
    ScheduleSerializer,
    ShipmentCreateSerializer,
    ShipmentSerializer,
    ShipmentUpdateSerializer,
)

NOTE_SALT = "logistics.delivery-note"
# The delivery note and the manifest page are documents for Chinese drivers and store staff:
# zh-Hans unless the request asks for English.
NOTE_LANGUAGES = {"zh-hans", "en"}


def _language(request) -> str:
    lang = request.GET.get("lang", "zh-hans")
    if lang not in NOTE_LANGUAGES:
        raise ValidationError(
            {"lang": [gettext("Choose %(choices)s.") % {"choices": "zh-hans, en"}]}
        )
    return lang


def _render_page(request, template: str, context: dict, lang: str) -> HttpResponse:
    with translation.override(lang):
        response = render(request, template, {**context, "lang": lang})
    response["Content-Language"] = lang
    return response


LANG_PARAMETER = OpenApiParameter(
    "lang",
    OpenApiTypes.STR,
    enum=sorted(NOTE_LANGUAGES),
    description=gettext_lazy("The page's language: zh-hans (default) or en."),
)


class DeliveryScheduleViewSet(ResourceViewSet):
    """When the trucks go from Shitun to Nanming, and the cut-off of each trip. Everyone
    signed in reads them; staff define them. Not deleted: switch one off with is_active."""

    serializer_class = ScheduleSerializer
    permission_classes = [access.SchedulePermission]

    def get_queryset(self):
        return selectors.schedule_list()

    def perform_create(self, serializer):
        serializer.instance = services.schedule_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.schedule_update(
            schedule=serializer.instance, data=serializer.validated_data
        )


class DeliveryRunViewSet(
    SparseFieldsMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Trips of the schedules, opened by a beat job for the coming days. Staff see all;
    managers and purchasing teams the runs that carry their parts."""

    serializer_class = RunSerializer
    permission_classes = [access.RunPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id", "departs_at"]

    def get_queryset(self):
        return selectors.run_list(user=self.request.user)

    @extend_schema(
        summary=gettext_lazy("A delivery run's manifest"),
        parameters=[
            OpenApiParameter(
                "export",
                OpenApiTypes.STR,
                enum=["csv", "xlsx", "html"],
                description=gettext_lazy(
                    "Instead of JSON: csv (UTF-8), xlsx, or html (a page to show on a phone "
                    "or print on A4). Headers and labels are zh-Hans unless lang=en."
                ),
            ),
            LANG_PARAMETER,
        ],
        responses={
            (200, "application/json"): ManifestSerializer,
            (200, "text/html"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def manifest(self, request, pk=None):
        """Every fulfilment on the run that you may see, in stop order: store, address,
        cooperative, packages and weight. Staff see the whole truck."""
        run = self.get_object()
        rows = selectors.manifest(user=request.user, run=run)
        export = request.query_params.get("export")
        if export is None:
            return Response(ManifestSerializer({"run": run, "rows": rows}).data)
        if export == "html":
            return _render_page(
                request,
                "logistics/manifest.html",
                {
                    "run": run,
                    "rows": rows,
                    "packages": sum(row["package_count"] or 0 for row in rows),
                    "weight": sum(row["weight_kg"] or 0 for row in rows),
                },
                _language(request),
            )
        if export not in ("csv", "xlsx"):  # refused in the request's language, as any error
            raise ValidationError(
                {"export": [gettext("Choose %(choices)s.") % {"choices": "csv, xlsx, html"}]}
            )
        name = f"manifest-{run.date:%Y%m%d}-{run.pk}"
        with translation.override(_language(request)):  # headers: zh-Hans unless lang=en
            if export == "csv":
                return file_response(exports.manifest_csv(rows), CSV, f"{name}.csv")
            return file_response(exports.manifest_xlsx(rows, name), XLSX, f"{name}.xlsx")


# An export holds at most this many shipments or delivery notes: more is a 400 asking for
# narrower filters.
EXPORT_MAX_ROWS = 5000


def _capped(queryset, field: str) -> list:
    rows = list(queryset[: EXPORT_MAX_ROWS + 1])
    if len(rows) > EXPORT_MAX_ROWS:
        raise ValidationError(
            {
                field: [
                    gettext("More than %(max)s rows: narrow the export with filters.")
                    % {"max": EXPORT_MAX_ROWS}
                ]
            }
        )
    return rows


class ShipmentViewSet(FileActionsMixin, ResourceViewSet):
    """How each fulfilment travels: carrier or own vehicle, driver, tracking number, packages,
    weight and the planned delivery window. The cooperative's managers and staff record it
    (once per part; later PATCH) and delay it; whoever sees the part reads it."""

    serializer_class = ShipmentSerializer
    permission_classes = [access.ShipmentPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.shipment_list(user=self.request.user)

    def get_serializer_class(self):
        return {
            "create": ShipmentCreateSerializer,
            "partial_update": ShipmentUpdateSerializer,
        }.get(self.action, ShipmentSerializer)

    def _answer(self, shipment, code=200) -> Response:
        return Response(ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data, code)

    @extend_schema(request=ShipmentCreateSerializer, responses={201: ShipmentSerializer})
    def create(self, request, *args, **kwargs):
        """Record a part's shipment (once per part). Send an Idempotency-Key to retry safely."""

        def record():
            data = ShipmentCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            shipment = services.shipment_record(user=request.user, **data.validated_data)
            return self._answer(shipment, 201)

        return idempotent(request, record)

    @extend_schema(request=ShipmentUpdateSerializer, responses=ShipmentSerializer)
    def partial_update(self, request, *args, **kwargs):
        shipment = self.get_object()
        data = ShipmentUpdateSerializer(shipment, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        shipment = services.shipment_update(
            user=request.user, shipment=shipment, data=data.validated_data
        )
        return self._answer(shipment)

    def _export(self) -> list[list]:
        queryset = self.filter_queryset(self.get_queryset()).select_related(
            "fulfilment__order__store", "fulfilment__cooperative"
        )
        return exports.shipment_rows(_capped(queryset, "ordering"))

    @extend_schema(
        summary=gettext_lazy("Export shipments as CSV"),
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="csv", pagination_class=None)
    def as_csv(self, request):
        """The shipments the list shows, as CSV (UTF-8 with a byte-order mark); headers in
        the request's language."""
        return file_response(as_csv(self._export()), CSV, "shipments.csv")

    @extend_schema(
        summary=gettext_lazy("Export shipments as XLSX"),
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="xlsx", pagination_class=None)
    def as_xlsx(self, request):
        """The shipments the list shows, as XLSX; headers in the request's language."""
        return file_response(as_xlsx(self._export(), "shipments"), XLSX, "shipments.xlsx")

    @extend_schema(
        summary=gettext_lazy("Delay a shipment"),
        request=DelaySerializer,
        responses=ShipmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def delay(self, request, pk=None):
        """A new delivery window and why; recorded as an order event. A window already past
        is a 400."""
        shipment = self.get_object()  # first: 404 for a shipment the user cannot see
        data = DelaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.shipment_delay(user=request.user, shipment=shipment, **data.validated_data)
        )


# --- the delivery note (送货单) ------------------------------------------------------------------
def _render_note(request, note: dict, lang: str) -> HttpResponse:
    return _render_page(request, "logistics/delivery_note.html", note, lang)


class DeliveryNoteView(APIView):
    """The delivery note of one fulfilment as a printable HTML page, for whoever sees the
    part (its cooperative's managers, the ordering organisation, staff)."""

    permission_classes = [access.DeliveryNotePermission]

    @extend_schema(
        summary=gettext_lazy("A fulfilment's delivery note (HTML)"),
        parameters=[LANG_PARAMETER],
        responses={(200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, fulfilment: str):
        note = selectors.delivery_note(user=request.user, fulfilment_id=int(fulfilment))
        if note is None:
            raise Http404
        return _render_note(request, note, _language(request))


class DeliveryNoteExportView(GenericAPIView):
    """The lines of the delivery notes the user may read, one row per line and lot (the lot
    once packed), as CSV or XLSX: fulfilment, order, store, cooperative, listing, product,
    lot, quantity, unit. Narrowed by run, order or status; headers in the request's
    language."""

    permission_classes = [access.DeliveryNotePermission]
    filterset_class = DeliveryNoteFilter
    ordering_fields = ["id"]
    pagination_class = None
    kind = "csv"  # or "xlsx": one view per file type, as the schema has one answer each

    def get_queryset(self):
        return selectors.delivery_note_parts(user=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # any Accept

    def get(self, request):
        parts = _capped(self.filter_queryset(self.get_queryset()), "run")
        rows = exports.delivery_note_rows(selectors.delivery_note_lines(fulfilments=parts))
        if self.kind == "csv":
            return file_response(as_csv(rows), CSV, "delivery-notes.csv")
        return file_response(as_xlsx(rows, "delivery notes"), XLSX, "delivery-notes.xlsx")


class DeliveryNoteCsvView(DeliveryNoteExportView):
    @extend_schema(
        summary=gettext_lazy("Export delivery-note lines as CSV"),
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        return super().get(request)


class DeliveryNoteXlsxView(DeliveryNoteExportView):
    kind = "xlsx"

    @extend_schema(
        summary=gettext_lazy("Export delivery-note lines as XLSX"),
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request):
        return super().get(request)


class DeliveryNoteLinkView(APIView):
    """A browser cannot send the API's bearer token: this answers a signed link to the same
    page that works without signing in, for DELIVERY_NOTE_LINK_TTL, for the user who asked
    (checked again when it is opened)."""

    permission_classes = [access.DeliveryNotePermission]

    @extend_schema(
        summary=gettext_lazy("A signed link to a delivery note"),
        parameters=[LANG_PARAMETER],
        request=None,
        responses=DeliveryNoteLinkSerializer,
    )
    def post(self, request, fulfilment: str):
        if selectors.fulfilment_visible(user=request.user, fulfilment_id=int(fulfilment)) is None:
            raise Http404
        token = signing.dumps(
            {"f": int(fulfilment), "u": request.user.pk, "l": _language(request)}, salt=NOTE_SALT
        )
        url = request.build_absolute_uri(reverse("delivery-note-signed", args=[token]))
        expires_at = timezone.now() + settings.DELIVERY_NOTE_LINK_TTL
        return Response(DeliveryNoteLinkSerializer({"url": url, "expires_at": expires_at}).data)


def delivery_note_signed(request, token: str):
    """The page behind a signed link: the signature and its age are the credential, and the
    user who asked for it must still be active and still see the part."""
    try:
        claim = signing.loads(
            token, salt=NOTE_SALT, max_age=settings.DELIVERY_NOTE_LINK_TTL.total_seconds()
        )
    except signing.BadSignature:
        raise Http404 from None
    user = selectors.active_user(user_id=claim["u"])
    note = selectors.delivery_note(user=user, fulfilment_id=claim["f"]) if user else None
    if note is None:
        raise Http404
    return _render_note(request, note, claim["l"] if claim["l"] in NOTE_LANGUAGES else "zh-hans")
