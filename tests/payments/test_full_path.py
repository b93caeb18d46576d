"""The whole money path through the HTTP API, on PostgreSQL with the fake Stripe: a buyer
orders from two cooperatives, pays by card (a PaymentIntent, Stripe's signed webhook), the
store rejects part of one delivery for quality, staff refund the difference, staff settle,
and each cooperative is paid on its own rail: the tongcao cooperative, which has a Stripe
connected account, by one Connect transfer per statement; the honey cooperative by the bank
batch file (代发), read back as CSV and XLSX and marked paid. A second order is paid by bank
transfer. Each statement's household split adds up to its net, and the ledger balances:
every transaction sums to zero, and the paid cooperatives are owed nothing."""

import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from openpyxl import load_workbook

from backend.money import round_fen, to_fen
from payments.ledger import balance
from payments.models import Account, LedgerEntry, ProviderEvent
from payments.services.payouts import payouts_due
from payments.tasks import process_provider_event, send_payout, send_refund
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
    # The tongcao cooperative has a Stripe connected account (set by staff); the honey
    # cooperative only its bank details.
    other_cooperative.stripe_account = fake_stripe.create_account(email="tongcao@example.cn")
    other_cooperative.save(update_fields=["stripe_account"])

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

    # --- 7. Payouts, one per statement, each on its cooperative's rail.
    payouts = {p["cooperative"]: p for p in ok(staff.get("/api/v1/payouts/"))["results"]}
    assert {c: p["rail"] for c, p in payouts.items()} == {
        cooperative.pk: "bank_batch",
        other_cooperative.pk: "stripe_transfer",
    }

    # The Connect transfer goes out with the beat job's next minute (a worker's part).
    assert payouts_due() == [payouts[other_cooperative.pk]["id"]]  # what send_due_payouts queues
    assert send_payout(payouts[other_cooperative.pk]["id"]) == "paid"
    (transfer,) = fake_stripe.objects("transfer")
    (sent,) = [r for r in fake_stripe.requests if (r.method, r.path) == ("POST", "/v1/transfers")]
    assert transfer["amount"] == to_fen(Decimal(tongcao_statement["net_payable"]))
    assert (transfer["currency"], transfer["destination"]) == (
        "cny",
        other_cooperative.stripe_account,
    )
    assert transfer["transfer_group"] == f"statement_{tongcao_statement['id']}"
    assert sent.idempotency_key == f"shitun:statement-{tongcao_statement['id']}-payout"
    assert transfer["metadata"] == {
        "statement": str(tongcao_statement["id"]),
        "payout": str(payouts[other_cooperative.pk]["id"]),
    }
    paid_by_transfer = ok(staff.get(f"/api/v1/payouts/{payouts[other_cooperative.pk]['id']}/"))
    assert (paid_by_transfer["status"], paid_by_transfer["provider_reference"]) == (
        "paid",
        transfer["id"],
    )

    # The honey cooperative by the bank batch file (代发), marked paid once the bank paid it.
    batch = ok(staff.post("/api/v1/bank-batches/", {}, format="json"), 201)
    assert [p["cooperative"] for p in batch["payouts"]] == [cooperative.pk]
    account, bank = "****0001", "demo"  # the factory's payout reference: bank:demo-****0001
    row = [cooperative.name_zh, account, bank, honey_statement["net_payable"]]
    csv_lines = (
        staff.get(f"/api/v1/bank-batches/{batch['id']}/csv/").content.decode("utf-8-sig")
    ).splitlines()
    assert len(csv_lines) == 2  # the header and the honey cooperative's row
    assert csv_lines[1].split(",")[:4] == row
    xlsx = staff.get(f"/api/v1/bank-batches/{batch['id']}/xlsx/", HTTP_ACCEPT="*/*")
    sheet = load_workbook(io.BytesIO(xlsx.getvalue())).active
    xlsx_rows = [[str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert len(xlsx_rows) == 2 and xlsx_rows[1][:4] == row
    assert f"statement {honey_statement['id']} " in xlsx_rows[1][4]  # the purpose (用途)
    assert (
        ok(staff.post(f"/api/v1/bank-batches/{batch['id']}/mark-paid/", {}, format="json"))[
            "status"
        ]
        == "paid"
    )
    payouts = ok(staff.get("/api/v1/payouts/"))["results"]
    assert sorted(p["status"] for p in payouts) == ["paid", "paid"]
    for statement in ok(staff.get("/api/v1/statements/"))["results"]:
        assert statement["status"] == "paid"

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

    # --- The ledger: every transaction sums to zero; the paid cooperatives are owed nothing;
    # cash is what came in less what went back and out (the commission stays).
    sums = LedgerEntry.objects.values("transaction_id").annotate(total=Sum("amount"))
    assert sums and {row["total"] for row in sums} == {Decimal("0.00")}
    for owner in (cooperative, other_cooperative):
        assert balance(account=Account.COOPERATIVE_PAYABLE, cooperative_id=owner.pk) == 0
    paid_out = sum(Decimal(s["net_payable"]) for s in statements.values())
    assert (
        balance(account=Account.CASH)
        == Decimal("1810.00") - Decimal("340.00") + Decimal("680.00") - paid_out
    )
    # At Stripe: the card's 1,810.00, less the refund and the transfer.
    assert fake_stripe.state.balance_fen == 181000 - 34000 - transfer["amount"]
