"""The payments API: thin views that parse with a serializer, ask payments/access.py, and
call a service or a selector."""

from django.db import transaction
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api import bounded_id_regex
from backend.errors import DomainError
from backend.exports import XLSX, FileActionsMixin, file_response
from backend.idempotency import idempotent
from buyers.access import organisation_id_of

from . import access, exports, selectors, tasks
from .serializers import (
    BankBatchSerializer,
    BankTransferAllocateSerializer,
    BankTransferCreateSerializer,
    BankTransferSerializer,
    HouseholdEarningSerializer,
    PaymentSerializer,
    PaymentStartedSerializer,
    PaymentStartSerializer,
    PayoutSerializer,
    RefundCreateSerializer,
    RefundSerializer,
    SettlementRunCreateSerializer,
    SettlementRunSerializer,
    StatementDetailSerializer,
    StatementSerializer,
)
from .services import cards, collecting, events, payouts, refunds, settlement
from .webhooks import StripeWebhookView

CSV = "text/csv"  # as the schema and bank clients have it (backend.exports.CSV adds the charset)


def _allocations(validated) -> list[collecting.AllocationRequest]:
    return [
        collecting.AllocationRequest(order_id=item["order"].pk, amount=item.get("amount"))
        for item in validated.get("allocations", [])
    ]


class BankTransferViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """对公转账: bank transfers from buyer organisations, matched to their orders. Staff
    record any organisation's; a partner system its own; the purchasing team reads them.
    What is not matched stays on the transfer as its unallocated remainder."""

    serializer_class = BankTransferSerializer
    permission_classes = [access.BankTransferPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id", "received_on"]

    def get_queryset(self):
        return selectors.bank_transfer_list(user=self.request.user)

    def _answer(self, transfer, code=status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=transfer.pk)).data, status=code
        )

    @extend_schema(
        request=BankTransferCreateSerializer,
        responses={201: BankTransferSerializer, 200: BankTransferSerializer},
    )
    def create(self, request):
        """Record a transfer and match it to orders. The bank reference is unique per
        organisation: the same transfer again answers 200 with the first record."""

        def record():
            data = BankTransferCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            organisation = data.validated_data.get("organisation")
            if organisation is None:
                organisation_id = organisation_id_of(user=request.user)
                if organisation_id is None:
                    raise DomainError(
                        gettext_lazy("Name the organisation that paid."),
                        fields={"organisation": [gettext_lazy("This field is required.")]},
                    )
                organisation = selectors.organisation(organisation_id)
            transfer, created = collecting.bank_transfer_record(
                user=request.user,
                organisation=organisation,
                bank_reference=data.validated_data["bank_reference"],
                amount=data.validated_data["amount"],
                received_on=data.validated_data["received_on"],
                payer_name=data.validated_data["payer_name"],
                allocations=_allocations(data.validated_data),
            )
            return self._answer(
                transfer, status.HTTP_201_CREATED if created else status.HTTP_200_OK
            )

        return idempotent(request, record)

    @extend_schema(
        summary=gettext_lazy("Match a transfer's remainder to orders"),
        request=BankTransferAllocateSerializer,
        responses=BankTransferSerializer,
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        transfer = self.get_object()  # first: 404 for a transfer the user cannot see
        data = BankTransferAllocateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        collecting.bank_transfer_allocate(
            user=request.user, transfer=transfer, allocations=_allocations(data.validated_data)
        )
        return self._answer(transfer)


class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """What each rail collected for each order, and what the order still owes. The ordering
    organisation starts paying with POST."""

    serializer_class = PaymentSerializer
    permission_classes = [access.PaymentPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]
    # POST asks Stripe for a PaymentIntent: 503 when the rail is off or Stripe unreachable.
    provider_error_codes = ("503",)

    def get_queryset(self):
        return selectors.payment_list(user=self.request.user)

    @extend_schema(
        request=PaymentStartSerializer,
        responses={201: PaymentStartedSerializer, 200: PaymentStartedSerializer},
    )
    def create(self, request):
        """Pay an order once every cooperative has confirmed its part (409 before, or when
        nothing is owed). Stripe: a PaymentIntent for what the order owes, and its client
        secret for the buyer's app to confirm; asking again answers the same intent (200),
        or a new one if the order's total fell. Bank transfer: where to transfer to. 503
        ``rail_unavailable`` when the rail is off here (Stripe without keys)."""

        # Not wrapped in idempotent(): that would hold the order's lock through the call to
        # Stripe. Starting is safe to repeat by itself (one payment per order and rail, the
        # intent keyed by the order and the amount), so a retry answers the same payment.
        data = PaymentStartSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        payment, outcome, created = cards.payment_start(
            user=request.user,
            order=data.validated_data["order"],
            rail=data.validated_data["rail"],
        )
        payment = self.get_queryset().get(pk=payment.pk)
        payment.client = outcome.client
        return Response(
            PaymentStartedSerializer(payment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Money given back to buyers: staff give it, staff and the paying organisation read it."""

    serializer_class = RefundSerializer
    permission_classes = [access.RefundPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]
    # A refund of a card payment needs the Stripe rail: 503 when it is off here.
    provider_error_codes = ("503",)

    def get_queryset(self):
        return selectors.refund_list(user=self.request.user)

    @extend_schema(
        request=RefundCreateSerializer, responses={201: RefundSerializer, 200: RefundSerializer}
    )
    def create(self, request):
        """Give money back, in part: recorded, posted to the ledger and, for a card payment,
        sent to Stripe after commit. Asked again (the same Idempotency-Key, or without one
        the same payment, reason, part and amount) it answers the first refund (200). More
        than may go back is a 409 naming what may."""

        def give():
            data = RefundCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            refund, created = refunds.refund_give(
                user=request.user,
                idempotency_key=request.headers.get("Idempotency-Key"),
                **data.validated_data,
            )
            return Response(
                self.get_serializer(self.get_queryset().get(pk=refund.pk)).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )

        return idempotent(request, give)


# Stripe's webhook: each verified event is stored once and processed by a task after commit.
stripe_webhook = StripeWebhookView.as_view(store=events.provider_event_record)


class StatementViewSet(FileActionsMixin, viewsets.ReadOnlyModelViewSet):
    """结算单: each cooperative's statements, with the settled fulfilments and the household
    split. Managers read their cooperatives'; staff all; buyers none."""

    permission_classes = [access.StatementPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id", "period_end"]

    def get_queryset(self):
        return selectors.statement_list(user=self.request.user)

    def get_serializer_class(self):
        return StatementSerializer if self.action == "list" else StatementDetailSerializer

    def _rows(self):
        statement = self.get_object()
        rows = exports.statement_rows(
            statement,
            selectors.statement_lines(statement=statement),
            selectors.statement_shares(statement=statement),
        )
        return statement, rows

    @extend_schema(
        summary=gettext_lazy("A statement and its household split as CSV"),
        responses={(200, CSV): OpenApiTypes.BINARY},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="csv",
        pagination_class=None,
        filter_backends=[],
    )
    def as_csv(self, request, pk=None):
        statement, rows = self._rows()
        return file_response(exports.as_csv(rows), CSV, f"statement-{statement.pk}.csv")

    @extend_schema(
        summary=gettext_lazy("A statement and its household split as XLSX"),
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="xlsx",
        pagination_class=None,
        filter_backends=[],
    )
    def as_xlsx(self, request, pk=None):
        statement, rows = self._rows()
        return file_response(
            exports.as_xlsx(rows, f"statement {statement.pk}"),
            XLSX,
            f"statement-{statement.pk}.xlsx",
        )


class HouseholdEarningsViewSet(viewsets.GenericViewSet):
    """A household's earnings per month, from its shares of statements: managers for their
    cooperatives' households, staff for all."""

    permission_classes = [access.StatementPermission]
    serializer_class = HouseholdEarningSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary=gettext_lazy("List households' earnings per month"),
        parameters=[OpenApiParameter("household", int, description="Only this household.")],
        responses=HouseholdEarningSerializer(many=True),
    )
    def list(self, request):
        raw = request.query_params.get("household")
        household_id = None
        if raw is not None:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
                raise DomainError(
                    gettext_lazy("household is a household id."),
                    fields={"household": [gettext_lazy("Enter a whole number.")]},
                )
            household_id = int(raw)
        rows = selectors.household_earnings(user=request.user, household_id=household_id)
        return Response(HouseholdEarningSerializer(rows, many=True).data)


class SettlementRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Settlement runs: the daily job's and staff's on-demand ones. POST settles now."""

    serializer_class = SettlementRunSerializer
    permission_classes = [access.StaffPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]

    def get_queryset(self):
        return selectors.settlement_run_list(user=self.request.user)

    @extend_schema(request=SettlementRunCreateSerializer, responses={201: SettlementRunSerializer})
    def create(self, request):
        """Settle every completed, paid, not yet settled fulfilment now: one statement per
        cooperative. Running it twice settles nothing twice."""

        def run():
            data = SettlementRunCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            result = settlement.settlement_run(
                user=request.user, period_end=data.validated_data.get("period_end")
            )
            return Response(self.get_serializer(result).data, status=status.HTTP_201_CREATED)

        return idempotent(request, run)


class PayoutViewSet(viewsets.ReadOnlyModelViewSet):
    """Payouts of statements (one per statement), by rail: staff only. A Stripe transfer
    that failed shows why, how often it was tried and when it is tried next (none: it
    waits for staff)."""

    serializer_class = PayoutSerializer
    permission_classes = [access.StaffPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]
    # A retry, or a move after a lost answer, asks Stripe: 503 when it is off or unreachable.
    provider_error_codes = ("503",)

    def get_queryset(self):
        return selectors.payout_list(user=self.request.user)

    @extend_schema(
        summary=gettext_lazy("Retry a failed transfer now"),
        request=None,
        responses={202: PayoutSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send a failed Stripe transfer again now (202: queued; the payout answers pending
        and moves to paid or failed). 409 for a payout that is not failed, or paid by bank
        batch; 503 while the Stripe rail is off."""
        payout = payouts.payout_retry(payout=self.get_object(), user=request.user)
        transaction.on_commit(lambda: tasks.send_payout.delay(payout.pk))
        return Response(
            self.get_serializer(self.get_queryset().get(pk=payout.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary=gettext_lazy("Move a failed transfer to the bank batch"),
        request=None,
        responses={200: PayoutSerializer},
    )
    @action(detail=True, methods=["post"], url_path="move-to-bank-batch")
    def move_to_bank_batch(self, request, pk=None):
        """Pay a failed Stripe transfer by the next bank batch file instead (the Stripe rail
        is off, the connected account gone). 409 for a payout that is not a failed transfer,
        or whose transfer Stripe made after all (an answer was lost: Stripe is asked first);
        503 when Stripe cannot say."""
        payout = payouts.payout_move_to_bank(payout=self.get_object(), user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=payout.pk)).data)


class BankBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """代发: bank batch files of pending bank payouts, for staff to upload to the bank and
    mark paid."""

    serializer_class = BankBatchSerializer
    permission_classes = [access.StaffPermission]
    lookup_value_regex = bounded_id_regex()
    ordering_fields = ["id"]

    def get_queryset(self):
        return selectors.bank_batch_list(user=self.request.user).prefetch_related(
            "payouts__statement"
        )

    def _answer(self, batch, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=batch.pk)).data, status=code)

    @extend_schema(request=None, responses={201: BankBatchSerializer})
    def create(self, request):
        """Put every pending bank payout in a new batch (409 when none waits)."""
        return idempotent(
            request,
            lambda: self._answer(
                payouts.bank_batch_create(user=request.user), status.HTTP_201_CREATED
            ),
        )

    def _rows(self):
        batch = self.get_object()
        return batch, exports.batch_rows(batch, selectors.bank_batch_payouts(batch=batch))

    @extend_schema(
        summary=gettext_lazy("The batch file as CSV"), responses={(200, CSV): OpenApiTypes.BINARY}
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="csv",
        pagination_class=None,
        filter_backends=[],
    )
    def as_csv(self, request, pk=None):
        batch, (header, rows) = self._rows()
        return file_response(exports.as_csv([header, *rows]), CSV, f"bank-batch-{batch.pk}.csv")

    @extend_schema(
        summary=gettext_lazy("The batch file as XLSX"), responses={(200, XLSX): OpenApiTypes.BINARY}
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="xlsx",
        pagination_class=None,
        filter_backends=[],
    )
    def as_xlsx(self, request, pk=None):
        batch, (header, rows) = self._rows()
        content = exports.as_xlsx([header, *rows], f"batch {batch.pk}")
        return file_response(content, XLSX, f"bank-batch-{batch.pk}.xlsx")

    @extend_schema(
        summary=gettext_lazy("Mark a batch paid"), request=None, responses=BankBatchSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        """The bank paid the batch: its payouts and statements are paid (409 if already)."""
        batch = payouts.bank_batch_mark_paid(batch=self.get_object(), user=request.user)
        return self._answer(batch)
