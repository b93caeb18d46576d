"""The whole money path through the HTTP API, on PostgreSQL with the fake Stripe: a buyer
orders from two cooperatives, pays by card (a PaymentIntent, Stripe's signed webhook), the
store rejects part of one delivery for quality, staff refund the difference, staff settle,
the cooperatives' payouts go into a bank batch file that staff mark paid, and each
statement's household split adds up to its net. A second order is paid by bank transfer.
(Payouts by Stripe Connect transfer are the payout rails' own tests; here both
cooperatives are paid by the bank batch.)"""

from decimal import Decimal

import pytest

from backend.money import round_fen
from payments.ledger import balance
from payments.models import Account, ProviderEvent
from payments.tasks import process_provider_event, send_refund
from tests.factories import HouseholdFactory
from tests.payments.conftest import traced_listing

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/v1/payments/stripe/webhook/"


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def stripe_delivers(client, fake, event_type):
    """Stripe POSTs its signed events of a type to the webhook; a worker processes them."""
    for event in fake.events(event_type):
        payload, signature = fake.signed(event)
        response = client.post(
            WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        ok(response)
    for row in ProviderEvent.objects.filter(processed_at=None).order_by("pk"):
        process_provider_event(row.pk)


def place(purchaser, store, *lines):
    body = {
        "store": store.pk,
        "lines": [{"listing": listing.pk, "quantity": quantity} for listing, quantity in lines],
    }
    return ok(purchaser.post("/api/v1/orders/", body, format="json"), 201)


def parts(order, managers):
    """Each cooperative's part of the order, with the client of its manager."""
    return [(part, managers[part["cooperative"]]) for part in order["fulfilments"]]


def move(client, part_id, verb, body=None):
    return ok(client.post(f"/api/v1/fulfilments/{part_id}/{verb}/", body or {}, format="json"))


def test_order_to_household_split(
    client,
    fake_stripe,
    purchaser,
    partner,
    staff,
    manager,
    other_manager,
    cooperative,
    other_cooperative,
    honey,
    households,
    store,
):
    tongcao_households = [HouseholdFactory(cooperative=other_cooperative) for _ in range(2)]
    tongcao = traced_listing(
        other_cooperative,
        [(tongcao_households[0], "60"), (tongcao_households[1], "40")],
        price="45.00",
    )
    managers = {cooperative.pk: manager, other_cooperative.pk: other_manager}

    # --- 1. The buyer orders honey and tongcao: one part per cooperative.
    order = place(purchaser, store, (honey, "20"), (tongcao, "10"))
    assert (order["total"], len(order["fulfilments"])) == ("1810.00", 2)
    for part, by in parts(order, managers):
        move(by, part["id"], "confirm")

    # --- 2. Pays by card: a PaymentIntent for what is owed; the app confirms; Stripe's
    # webhook says it succeeded.
    started = ok(
        purchaser.post(
            "/api/v1/payments/", {"order": order["id"], "rail": "stripe"}, format="json"
        ),
        201,
    )
    assert (started["client"]["amount"], started["status"]) == ("1810.00", "pending")
    fake_stripe.confirm(started["client"]["payment_intent"])
    stripe_delivers(client, fake_stripe, "payment_intent.succeeded")
    payment = ok(purchaser.get(f"/api/v1/payments/{started['id']}/"))
    assert (payment["status"], payment["amount_collected"], payment["order_due"]) == (
        "collected",
        "1810.00",
        "0.00",
    )

    # --- 3. Delivered: 5 kg of honey rejected for quality; the rest accepted.
    honey_part = next(p for p in order["fulfilments"] if p["cooperative"] == cooperative.pk)
    honey_line = honey_part["lines"][0]["id"]
    for part, by in parts(order, managers):
        move(by, part["id"], "pack")
        move(by, part["id"], "ship")
        lines = []
        if part["id"] == honey_part["id"]:
            lines = [
                {
                    "line": honey_line,
                    "accepted_quantity": "15",
                    "issue": "quality",
                    "note": "5 kg crystallised",
                }
            ]
        move(purchaser, part["id"], "deliver", {"lines": lines})
        move(purchaser, part["id"], "complete")
    assert ok(purchaser.get(f"/api/v1/orders/{order['id']}/"))["total"] == "1470.00"

    # --- 4. Staff refund the difference: recorded, sent to Stripe, confirmed by its event.
    refund = ok(
        staff.post(
            "/api/v1/refunds/",
            {"payment": started["id"], "amount": "340.00", "reason": "quality"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="quality-honey-1",
        ),
        201,
    )
    assert send_refund(refund["id"]) == "succeeded"  # the worker's part, after commit
    stripe_delivers(client, fake_stripe, "refund.created")
    assert ok(staff.get(f"/api/v1/refunds/{refund['id']}/"))["status"] == "succeeded"
    assert [r["amount"] for r in fake_stripe.objects("refund")] == [34000]
    payment = ok(purchaser.get(f"/api/v1/payments/{started['id']}/"))
    assert (payment["amount_refunded"], payment["order_due"]) == ("340.00", "0.00")

    # --- 5. A second order, of honey only, paid by bank transfer by the partner system.
    second = place(purchaser, store, (honey, "10"))
    for part, by in parts(second, managers):
        move(by, part["id"], "confirm")
        move(by, part["id"], "pack")
        move(by, part["id"], "ship")
        move(purchaser, part["id"], "deliver")
        move(purchaser, part["id"], "complete")
    transfer = ok(
        partner.post(
            "/api/v1/bank-transfers/",
            {
                "bank_reference": "ICBC-20261129-01",
                "amount": "680.00",
                "received_on": "2026-11-28",
                "allocations": [{"order": second["id"]}],
            },
            format="json",
        ),
        201,
    )
    assert transfer["unallocated"] == "0.00"

    # --- 6. Settlement: one statement per cooperative, both orders' parts.
    run = ok(staff.post("/api/v1/settlement-runs/", {}, format="json"), 201)
    assert run["fulfilments_count"] == 3
    statements = {s["cooperative"]: s for s in ok(staff.get("/api/v1/statements/"))["results"]}
    honey_statement = statements[cooperative.pk]
    tongcao_statement = statements[other_cooperative.pk]
    # Honey: 15 kg + 10 kg accepted at 68.00; tongcao 10 kg at 45.00.
    assert (honey_statement["goods_value"], tongcao_statement["goods_value"]) == (
        "1700.00",
        "450.00",
    )
    for statement, owner in (
        (honey_statement, cooperative),
        (tongcao_statement, other_cooperative),
    ):
        commission = round_fen(Decimal(statement["goods_value"]) * owner.commission_rate)
        assert Decimal(statement["commission"]) == commission
        assert Decimal(statement["net_payable"]) == Decimal(statement["goods_value"]) - commission

    # --- 7. Payouts by the bank batch file (代发), marked paid once the bank paid it.
    batch = ok(staff.post("/api/v1/bank-batches/", {}, format="json"), 201)
    csv_rows = staff.get(f"/api/v1/bank-batches/{batch['id']}/csv/").content.decode("utf-8-sig")
    assert len(csv_rows.splitlines()) == 3  # the header and one row per cooperative
    for statement in statements.values():
        assert statement["net_payable"] in csv_rows
    assert (
        ok(staff.post(f"/api/v1/bank-batches/{batch['id']}/mark-paid/", {}, format="json"))[
            "status"
        ]
        == "paid"
    )
    payouts = ok(staff.get("/api/v1/payouts/"))["results"]
    assert sorted(p["status"] for p in payouts) == ["paid", "paid"]

    # --- 8. Each household's share, read through the API by its cooperative's manager,
    # adds up to the statement's net.
    for statement, by in ((honey_statement, manager), (tongcao_statement, other_manager)):
        detail = ok(by.get(f"/api/v1/statements/{statement['id']}/"))
        shares = [Decimal(share["amount"]) for share in detail["shares"]]
        assert len(shares) >= 2 and sum(shares) == Decimal(detail["net_payable"])
    honey_detail = ok(manager.get(f"/api/v1/statements/{honey_statement['id']}/"))
    # 50/30/20 of the lot: the poverty-list household's share is half the net.
    assert Decimal(honey_detail["poverty_list_subtotal"]) == round_fen(
        Decimal(honey_detail["net_payable"]) / 2
    )

    # --- The ledger: cash is what came in less what went back and out.
    paid_out = sum(Decimal(s["net_payable"]) for s in statements.values())
    assert (
        balance(account=Account.CASH)
        == Decimal("1810.00") - Decimal("340.00") + Decimal("680.00") - paid_out
    )
