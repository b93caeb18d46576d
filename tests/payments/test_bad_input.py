"""Bad input to every payments endpoint (issue 6, "Done when"): each gets a clear 4xx in the
one error shape, and nothing is written: every payments table, the ledger, the outbox and
the fake Stripe's objects hold as many rows after the request as before."""

from decimal import Decimal

import pytest
from django.apps import apps

from orders.services import transitions
from payments.services.collecting import AllocationRequest, bank_transfer_record
from payments.services.settlement import settlement_run
from tests.conftest import assert_error
from tests.factories import HouseholdFactory, place_order
from tests.payments.conftest import deliver, traced_listing

pytestmark = pytest.mark.django_db
HUGE = "99999999999.00"  # beyond backend.money.MAX_AMOUNT and the columns


@pytest.fixture
def world(
    staff_user,
    purchaser_user,
    other_purchaser_user,
    store,
    other_store,
    honey,
    other_cooperative,
    fake_stripe,
):
    """A paid honey order (1,360.00), 5 kg then rejected for quality (340.00 refundable),
    settled; a transfer with 500.00 left to allocate; a confirmed order to pay; an order
    its cooperative has not confirmed; another organisation's order; another cooperative's
    statement."""
    paid = place_order(purchaser_user, store, (honey, "20"))
    record = {"user": staff_user, "received_on": paid.created_at.date()}
    bank_transfer_record(
        organisation=paid.organisation,
        bank_reference="PAID-1",
        amount=Decimal("1360.00"),
        allocations=[AllocationRequest(paid.pk)],
        **record,
    )
    paid = deliver(paid, staff_user, accepted={honey: ("15", "quality", "crystallised")})
    transfer, _ = bank_transfer_record(
        organisation=paid.organisation,
        bank_reference="LEFT-1",
        amount=Decimal("500.00"),
        **record,
    )
    tongcao = traced_listing(
        other_cooperative, [(HouseholdFactory(cooperative=other_cooperative), "10")]
    )
    foreign = place_order(other_purchaser_user, other_store, (tongcao, "10"))
    bank_transfer_record(
        organisation=foreign.organisation,
        bank_reference="FOREIGN-1",
        amount=foreign.total,
        allocations=[AllocationRequest(foreign.pk)],
        **record,
    )
    deliver(foreign, staff_user)
    settlement_run(user=staff_user)
    confirmed = place_order(purchaser_user, store, (honey, "10"))
    transitions.fulfilment_confirm(fulfilment=confirmed.fulfilments.get(), user=staff_user)
    unconfirmed = place_order(purchaser_user, store, (honey, "10"))
    return {
        "payment": paid.payments.get().pk,
        "part": paid.fulfilments.get().pk,
        "transfer": transfer.pk,
        "confirmed": confirmed.pk,
        "unconfirmed": unconfirmed.pk,
        "foreign": foreign.pk,
        "foreign_statement": other_cooperative.statements.get().pk,
        "payout": other_cooperative.statements.get().payout.pk,
    }


def rows(fake_stripe) -> dict[str, int]:
    counts = {
        model._meta.label: model.objects.count()
        for model in [*apps.get_app_config("payments").get_models()]
    }
    counts["notices"] = apps.get_model("notices", "Notice").objects.count()
    counts["stripe"] = len(fake_stripe.state.objects)
    return counts


def transfer(amount="100.00", order="{confirmed}", **extra):
    return {
        "bank_reference": "NEW-1",
        "amount": amount,
        "received_on": "2026-11-28",
        "allocations": [{"order": order}],
        **extra,
    }


def refund(amount="10.00", **extra):
    return {"payment": "{payment}", "amount": amount, "reason": "quality", **extra}


UNKNOWN = 10**12
CASES = [
    # 对公转账: amounts, orders.
    ("partner", "post", "bank-transfers/", transfer("-5.00"), 400, "amount"),
    ("partner", "post", "bank-transfers/", transfer(HUGE), 400, "amount"),
    ("partner", "post", "bank-transfers/", transfer(order=UNKNOWN), 400, "allocations.0.order"),
    ("partner", "post", "bank-transfers/", transfer(order="{foreign}"), 400, "allocations.0.order"),
    (
        "partner",
        "post",
        "bank-transfers/",
        transfer("100.00", allocations=[{"order": "{confirmed}", "amount": "100.01"}]),
        400,
        "allocations.0.amount",
    ),
    # Matching a transfer's remainder: the same refusals.
    (
        "partner",
        "post",
        "bank-transfers/{transfer}/allocate/",
        {"allocations": [{"order": "{confirmed}", "amount": "-1.00"}]},
        400,
        "allocations.0.amount",
    ),
    (
        "partner",
        "post",
        "bank-transfers/{transfer}/allocate/",
        {"allocations": [{"order": "{confirmed}", "amount": HUGE}]},
        400,
        "allocations.0.amount",
    ),
    (
        "partner",
        "post",
        "bank-transfers/{transfer}/allocate/",
        {"allocations": [{"order": "{confirmed}", "amount": "500.01"}]},
        400,
        "allocations.0.amount",
    ),
    (
        "partner",
        "post",
        "bank-transfers/{transfer}/allocate/",
        {"allocations": [{"order": UNKNOWN}]},
        400,
        "allocations.0.order",
    ),
    (
        "partner",
        "post",
        "bank-transfers/{transfer}/allocate/",
        {"allocations": [{"order": "{foreign}"}]},
        400,
        "allocations.0.order",
    ),
    # Starting a payment.
    ("purchaser", "post", "payments/", {"order": UNKNOWN, "rail": "stripe"}, 400, "order"),
    ("purchaser", "post", "payments/", {"order": "{foreign}", "rail": "stripe"}, 400, "order"),
    ("purchaser", "post", "payments/", {"order": "{unconfirmed}", "rail": "stripe"}, 409, "order"),
    (
        "purchaser",
        "post",
        "payments/",
        {"order": "{unconfirmed}", "rail": "bank_transfer"},
        409,
        "order",
    ),
    # Refunds: above what may go back, amounts, unknown rows.
    ("staff", "post", "refunds/", refund("340.01"), 409, "amount"),
    ("staff", "post", "refunds/", refund("340.01", reason="overpayment"), 409, "amount"),
    ("staff", "post", "refunds/", refund("-1.00"), 400, "amount"),
    ("staff", "post", "refunds/", refund(HUGE), 400, "amount"),
    ("staff", "post", "refunds/", refund(payment=UNKNOWN), 400, "payment"),
    (
        "staff",
        "post",
        "refunds/",
        refund(reason="adjustment", fulfilment=UNKNOWN),
        400,
        "fulfilment",
    ),
    # Another cooperative's statement: not there for this manager, in any form.
    ("manager", "get", "statements/{foreign_statement}/", None, 404, None),
    ("manager", "get", "statements/{foreign_statement}/csv/", None, 404, None),
    ("manager", "get", "statements/{foreign_statement}/xlsx/", None, 404, None),
    ("manager", "get", "household-earnings/?household=abc", None, 400, "household"),
    # Staff's money moves on rows that do not exist, or in the future.
    ("staff", "post", "settlement-runs/", {"period_end": "2999-01-01"}, 400, "period_end"),
    ("staff", "post", f"payouts/{UNKNOWN}/retry/", None, 404, None),
    ("staff", "post", f"payouts/{UNKNOWN}/move-to-bank-batch/", None, 404, None),
    ("staff", "post", "payouts/{payout}/move-to-bank-batch/", None, 409, "rail"),
    ("staff", "post", f"bank-batches/{UNKNOWN}/mark-paid/", None, 404, None),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _ids(value):
    """Ids given as "{name}" answer as numbers in the body."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, dict):
        return {k: _ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ids(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "field"),
    CASES,
    ids=[f"{c[1].upper()} {c[2]} {c[4]} {c[5] or ''}".strip() for c in CASES],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(
    request, world, fake_stripe, who, method, path, body, status, field
):
    client = request.getfixturevalue(who)
    before = rows(fake_stripe)
    url = "/api/v1/" + _fill(path, world)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _ids(_fill(body, world)) or {}, format="json")
    assert_error(response, status, field=field)
    assert rows(fake_stripe) == before
