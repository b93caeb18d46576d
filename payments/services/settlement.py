"""Settlement: every completed fulfilment not yet settled goes on one statement per
cooperative, in set-based SQL, exactly once.

One run is a fixed number of queries, however many fulfilments it settles: read the
eligible parts (one query), write the statements, their lines, the ledger transactions and
entries, the household shares and the payouts (one INSERT each). Exactly once: the run
locks the cooperatives it settles (by primary key) and reads the eligible parts again under
that lock, so a second run at the same time waits and finds them settled; the unique
fulfilment of a statement line is the backstop.

The rules (written down once, here and in the README):
- goods value: the fulfilment's subtotal, which follows the accepted quantities;
- refunds: adjustments charged to the cooperative and not yet on a statement (carried to a
  later statement if they exceed this one's goods value);
- commission = round_fen((goods value − refunds) × the cooperative's rate), once per
  statement, halves away from zero; net payable = goods value − refunds − commission;
- household shares: the net split with backend.money.split in proportion to the goods value
  each household's lot contributions supplied of the statement's lines.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Max, Q, Sum
from django.utils import timezone

from accounts.models import User
from backend.money import round_fen, split
from orders.models import Fulfilment, FulfilmentStatus, PickAllocation
from suppliers.models import Cooperative

from ..ledger import Posting, Transaction, ledger_post_many
from ..models import (
    Account,
    HouseholdShare,
    Payout,
    PayoutRail,
    Refund,
    SettlementRun,
    Statement,
    StatementLine,
)
from ..rails import payout_rail_name_for
from ..selectors import paid_subquery
from .payouts import has_bank_details, no_bank_details

WEIGHT = DecimalField(max_digits=30, decimal_places=10)
SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class SettlementPolicy:
    """Whether net-terms orders the buyer has not paid yet are settled (the platform carries
    the credit). Orders without net terms always wait for the buyer's money."""

    settle_unpaid_net_terms: bool = False

    @classmethod
    def from_settings(cls) -> "SettlementPolicy":
        return cls(settle_unpaid_net_terms=settings.PAYMENTS_SETTLE_UNPAID_NET_TERMS)


def commission_for(
    goods_value: Decimal, refunds: Decimal, rate: Decimal
) -> tuple[Decimal, Decimal]:
    """(commission, net payable) by the one rule: commission rounded once, half up."""
    base = goods_value - refunds
    commission = round_fen(base * rate)
    return commission, base - commission


def eligible_fulfilments(*, period_end: datetime.date, policy: SettlementPolicy):
    """Completed parts, not yet settled, completed by the end of ``period_end`` (Asia/
    Shanghai), whose order the buyer paid in full (or, by policy, is on net terms)."""
    tz = timezone.get_current_timezone()
    until = datetime.datetime.combine(period_end + datetime.timedelta(days=1), datetime.time(), tz)
    paid = Q(paid__gte=F("order__total"))
    if policy.settle_unpaid_net_terms:
        paid |= Q(order__organisation__net_terms_days__gt=0)
    return (
        Fulfilment.objects.filter(
            status=FulfilmentStatus.COMPLETED, statement_line__isnull=True, updated_at__lt=until
        )
        .annotate(paid=paid_subquery("order_id"))
        .filter(paid)
    )


def settlement_run(
    *,
    user: User | None = None,
    period_end: datetime.date | None = None,
    policy: SettlementPolicy | None = None,
) -> SettlementRun:
    """Settle everything eligible up to ``period_end`` (default: today) in one transaction."""
    period_end = period_end or timezone.localdate()
    policy = policy or SettlementPolicy.from_settings()
    with transaction.atomic():
        run = SettlementRun.objects.create(
            period_end=period_end,
            started_by=user,
            settle_unpaid_net_terms=policy.settle_unpaid_net_terms,
        )
        eligible = eligible_fulfilments(period_end=period_end, policy=policy)
        cooperative_ids = sorted(set(eligible.values_list("cooperative_id", flat=True)))
        # The run's lock: a concurrent run waits here, then reads the parts settled.
        cooperatives = {
            c.pk: c
            for c in Cooperative.objects.select_for_update()
            .filter(pk__in=cooperative_ids)
            .order_by("pk")
        }
        rows = list(
            eligible.filter(cooperative_id__in=cooperative_ids)
            .order_by("pk")
            .values_list(
                "pk",
                "cooperative_id",
                "order_id",
                "order__organisation_id",
                "subtotal",
                "updated_at",
            )
        )
        if rows:
            _settle(run, cooperatives, rows, period_end)
        run.finished_at = timezone.now()
        run.save(update_fields=["statements_count", "fulfilments_count", "finished_at"])
    return run


def _settle(run: SettlementRun, cooperatives: dict, rows: list, period_end: datetime.date) -> None:
    by_cooperative: dict[int, list] = defaultdict(list)
    for row in rows:
        by_cooperative[row[1]].append(row)
    refunds_by_cooperative: dict[int, list] = defaultdict(list)
    for refund_id, cooperative_id, amount in Refund.objects.filter(
        reason=Refund.Reason.ADJUSTMENT,
        status=Refund.Status.SUCCEEDED,
        statement__isnull=True,
        fulfilment__cooperative_id__in=list(by_cooperative),
    ).values_list("pk", "fulfilment__cooperative_id", "amount"):
        refunds_by_cooperative[cooperative_id].append((refund_id, amount))
    last_end = dict(
        Statement.objects.filter(cooperative_id__in=list(by_cooperative))
        .values("cooperative_id")
        .annotate(end=Max("period_end"))
        .values_list("cooperative_id", "end")
    )
    tz = timezone.get_current_timezone()
    statements = []
    charged_refunds: dict[int, list[int]] = {}
    for cooperative_id, parts in by_cooperative.items():
        cooperative = cooperatives[cooperative_id]
        goods = sum((part[4] for part in parts), Decimal(0))
        refunds = refunds_by_cooperative.get(cooperative_id, [])
        refund_total = sum((amount for _id, amount in refunds), Decimal(0))
        if refund_total > goods:
            refunds, refund_total = [], Decimal(0)  # carried to a later statement
        commission, net = commission_for(goods, refund_total, cooperative.commission_rate)
        earliest = min(part[5].astimezone(tz).date() for part in parts)
        start = min(earliest, period_end)
        if cooperative_id in last_end and last_end[cooperative_id] < period_end:
            start = min(start, last_end[cooperative_id] + datetime.timedelta(days=1))
        statements.append(
            Statement(
                run=run,
                cooperative_id=cooperative_id,
                period_start=start,
                period_end=period_end,
                goods_value=goods,
                commission_rate=cooperative.commission_rate,
                commission=commission,
                refunds=refund_total,
                net_payable=net,
            )
        )
        charged_refunds[cooperative_id] = [refund_id for refund_id, _a in refunds]
    statements = Statement.objects.bulk_create(statements)
    statement_of = {s.cooperative_id: s for s in statements}
    StatementLine.objects.bulk_create(
        StatementLine(statement=statement_of[row[1]], fulfilment_id=row[0], goods_value=row[4])
        for row in rows
    )
    charged = [
        Refund(pk=refund_id, statement=statement_of[cooperative_id])
        for cooperative_id, ids in charged_refunds.items()
        for refund_id in ids
    ]
    if charged:
        Refund.objects.bulk_update(charged, ["statement"])
    ledger_post_many(
        transactions=[
            _posting(s, by_cooperative[s.cooperative_id]) for s in statements if s.goods_value
        ]
    )
    _household_shares(run, statements)
    now = timezone.now()
    payouts = []
    for s in statements:
        if s.net_payable > 0:
            cooperative = cooperatives[s.cooperative_id]
            rail = payout_rail_name_for(cooperative)
            waits = rail == PayoutRail.BANK_BATCH and not has_bank_details(cooperative)
            payouts.append(
                Payout(
                    statement=s,
                    rail=rail,
                    amount=s.net_payable,
                    idempotency_key=f"statement-{s.pk}-payout",
                    failure_reason=no_bank_details() if waits else "",
                    # Transfers go out with the next beat of send_due_payouts; bank payouts
                    # wait for staff to make a batch.
                    next_attempt_at=now if rail == PayoutRail.STRIPE_TRANSFER else None,
                )
            )
    Payout.objects.bulk_create(payouts)
    run.statements_count = len(statements)
    run.fulfilments_count = len(rows)


def _posting(statement: Statement, parts: list) -> Transaction:
    """Bill the buyers for the accepted goods (one entry per buyer organisation: what each
    order owes is its payments' business, payments.selectors.order_balance), owe the
    cooperative its net, keep the commission, recover the adjustments it bears. Entries stay
    few per statement, so the database's balance check at commit stays cheap."""
    per_organisation: dict[int, Decimal] = defaultdict(Decimal)
    for _pk, _coop, _order_id, organisation_id, subtotal, _at in parts:
        per_organisation[organisation_id] += subtotal
    postings = [
        Posting(Account.BUYER_RECEIVABLE, value, organisation_id=organisation_id)
        for organisation_id, value in sorted(per_organisation.items())
    ]
    cooperative_id = statement.cooperative_id
    postings += [
        Posting(Account.COOPERATIVE_PAYABLE, -statement.net_payable, cooperative_id=cooperative_id),
        Posting(Account.PLATFORM_COMMISSION, -statement.commission, cooperative_id=cooperative_id),
        Posting(Account.REFUNDS, -statement.refunds, cooperative_id=cooperative_id),
    ]
    return Transaction(kind="statement", key=f"statement:{statement.pk}", postings=postings)


def _household_shares(run: SettlementRun, statements: list[Statement]) -> None:
    """One query weighs every household of every statement of the run: for each pick of a
    settled line, the line's accepted value × the pick's part of the line × the household's
    part of the lot."""
    weights = (
        PickAllocation.objects.filter(
            line__fulfilment__statement_line__statement__run=run, line__line_total__gt=0
        )
        .values(
            statement_id=F("line__fulfilment__statement_line__statement_id"),
            household_id=F("lot__contributions__household_id"),
            poor=F("lot__contributions__household__on_poverty_list"),
        )
        .annotate(
            weight=Sum(
                ExpressionWrapper(
                    F("line__line_total")
                    * F("quantity")
                    * F("lot__contributions__quantity")
                    / (F("line__confirmed_quantity") * F("lot__quantity")),
                    output_field=WEIGHT,
                )
            )
        )
        .order_by("statement_id", "household_id")
    )
    by_statement: dict[int, list] = defaultdict(list)
    for row in weights:
        if row["household_id"] is not None and row["weight"] and row["weight"] > 0:
            by_statement[row["statement_id"]].append(row)
    shares = []
    for statement in statements:
        households = by_statement.get(statement.pk)
        if not households:
            continue  # nothing traceable to households (or nothing accepted)
        amounts = split(statement.net_payable, [Decimal(h["weight"]) for h in households])
        shares += [
            HouseholdShare(
                statement=statement,
                household_id=h["household_id"],
                goods_value=Decimal(h["weight"]).quantize(SIX_PLACES),
                amount=amount,
                on_poverty_list=h["poor"],
            )
            for h, amount in zip(households, amounts, strict=True)
        ]
    HouseholdShare.objects.bulk_create(shares)
