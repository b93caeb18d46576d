"""The payments API end to end: a buyer's partner system records a transfer, staff settle
and pay out by bank batch, a manager reads the statement and its household split; and bad
input gets a clear 4xx in the one error shape, with nothing written."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from payments.models import BankTransfer, LedgerEntry, Payment, SettlementRun, Statement
from tests.conftest import assert_error
from tests.factories import place_order

pytestmark = pytest.mark.django_db
TRANSFERS = "/api/v1/bank-transfers/"


def transfer_body(order=None, amount="1020.00", reference="ICBC-0001", **extra):
    body = {"bank_reference": reference, "amount": amount, "received_on": "2026-11-28", **extra}
    if order is not None:
        body["allocations"] = [{"order": order.pk}]
    return body


def test_the_money_path_through_the_api(
    partner, purchaser, staff, manager, other_manager, delivered_order, households
):
    recorded = partner.post(
        TRANSFERS, transfer_body(delivered_order, amount="1100.00"), format="json"
    )
    assert recorded.status_code == 201, recorded.content
    body = recorded.json()
    assert (body["allocated"], body["unallocated"]) == ("1020.00", "80.00")
    again = partner.post(TRANSFERS, transfer_body(delivered_order, amount="1100.00"), format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]

    payments = purchaser.get("/api/v1/payments/").json()["results"]
    assert [(p["amount_collected"], p["order_due"]) for p in payments] == [("1020.00", "0.00")]
    assert purchaser.get(TRANSFERS).json()["results"][0]["id"] == body["id"]

    run = staff.post("/api/v1/settlement-runs/", {}, format="json")
    assert run.status_code == 201 and run.json()["fulfilments_count"] == 1
    statement_id = Statement.objects.get().pk

    detail = manager.get(f"/api/v1/statements/{statement_id}/").json()
    assert (detail["goods_value"], detail["commission"], detail["net_payable"]) == (
        "1020.00",
        "30.60",
        "989.40",
    )
    assert sum(Decimal(s["amount"]) for s in detail["shares"]) == Decimal("989.40")
    assert detail["poverty_list_subtotal"] == "494.70"
    other = other_manager.get(f"/api/v1/statements/{statement_id}/")
    assert_error(other, 404, "not_found")
    assert_error(purchaser.get(f"/api/v1/statements/{statement_id}/"), 403, "permission_denied")

    csv_file = manager.get(f"/api/v1/statements/{statement_id}/csv/")
    assert csv_file.status_code == 200 and csv_file["Content-Type"] == "text/csv"
    assert households[0].name in csv_file.content.decode("utf-8-sig")
    xlsx_file = manager.get(f"/api/v1/statements/{statement_id}/xlsx/")
    sheet = load_workbook(io.BytesIO(xlsx_file.content)).active
    assert any(row[0] == households[0].name for row in sheet.iter_rows(values_only=True))

    earnings = manager.get("/api/v1/household-earnings/", {"household": households[0].pk}).json()
    assert [(e["amount"], e["statements"]) for e in earnings] == [("494.70", 1)]
    assert_error(purchaser.get("/api/v1/household-earnings/"), 403)

    batch = staff.post("/api/v1/bank-batches/", {}, format="json")
    assert batch.status_code == 201, batch.content
    batch_id = batch.json()["id"]
    batch_csv = staff.get(f"/api/v1/bank-batches/{batch_id}/csv/", HTTP_ACCEPT_LANGUAGE="en")
    lines = batch_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("payee name (收款人名称)")
    assert "989.40" in lines[1]
    batch_xlsx = staff.get(f"/api/v1/bank-batches/{batch_id}/xlsx/")
    rows = list(load_workbook(io.BytesIO(batch_xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][3] == "989.40"
    paid = staff.post(f"/api/v1/bank-batches/{batch_id}/mark-paid/", {}, format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert_error(staff.post(f"/api/v1/bank-batches/{batch_id}/mark-paid/", {}, format="json"), 409)
    assert manager.get(f"/api/v1/statements/{statement_id}/").json()["status"] == "paid"


@pytest.mark.parametrize(
    "amount, field",
    [("-5.00", "amount"), ("0.00", "amount"), ("99999999999.00", "amount"), ("abc", "amount")],
)
def test_bad_amounts_are_refused_and_nothing_written(partner, delivered_order, amount, field):
    response = partner.post(TRANSFERS, transfer_body(delivered_order, amount=amount), format="json")
    assert_error(response, 400, "validation_error", field)
    assert not BankTransfer.objects.exists() and not LedgerEntry.objects.exists()


def test_unknown_and_foreign_orders_are_refused(
    partner, staff, other_purchaser_user, other_store, honey, organisation, delivered_order
):
    foreign = place_order(other_purchaser_user, other_store, (honey, "10"))
    for order_id in (foreign.pk, 10**12):
        body = transfer_body(amount="100.00")
        body["allocations"] = [{"order": order_id}]
        assert_error(partner.post(TRANSFERS, body, format="json"), 400, None, "allocations.0.order")
    # Staff see every order: the service refuses one that is not the payer's.
    body = transfer_body(amount="100.00", organisation=organisation.pk)
    body["allocations"] = [{"order": foreign.pk}]
    assert_error(staff.post(TRANSFERS, body, format="json"), 400, None, "allocations.0.order")
    assert not BankTransfer.objects.exists() and not Payment.objects.exists()


def test_over_allocation_is_refused(partner, delivered_order):
    body = transfer_body(amount="100.00")
    body["allocations"] = [{"order": delivered_order.pk, "amount": "100.01"}]
    assert_error(partner.post(TRANSFERS, body, format="json"), 400, None, "allocations.0.amount")
    assert not BankTransfer.objects.exists()


def test_another_transfer_under_a_used_reference_is_a_conflict(partner, delivered_order):
    assert partner.post(TRANSFERS, transfer_body(amount="10.00"), format="json").status_code == 201
    response = partner.post(TRANSFERS, transfer_body(amount="11.00"), format="json")
    assert_error(response, 409, "conflict", "bank_reference")
    assert BankTransfer.objects.count() == 1


def test_purchasers_read_but_do_not_record_transfers(purchaser, delivered_order):
    assert_error(purchaser.post(TRANSFERS, transfer_body(delivered_order), format="json"), 403)
    assert purchaser.get(TRANSFERS).status_code == 200


def test_staff_name_the_paying_organisation(staff, delivered_order, organisation):
    assert_error(staff.post(TRANSFERS, transfer_body(), format="json"), 400, None, "organisation")
    body = transfer_body(delivered_order, organisation=organisation.pk)
    assert staff.post(TRANSFERS, body, format="json").status_code == 201


def test_a_remainder_is_allocated_later(partner, purchaser_user, store, honey):
    created = partner.post(TRANSFERS, transfer_body(amount="1000.00"), format="json").json()
    order = place_order(purchaser_user, store, (honey, "10"))
    response = partner.post(
        f"{TRANSFERS}{created['id']}/allocate/",
        {"allocations": [{"order": order.pk}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["unallocated"] == "320.00"


def test_settlement_runs_are_for_staff(staff, manager):
    assert_error(manager.post("/api/v1/settlement-runs/", {}, format="json"), 403)
    assert staff.post("/api/v1/settlement-runs/", {}, format="json").status_code == 201
    assert SettlementRun.objects.count() == 1
    assert_error(
        staff.post("/api/v1/settlement-runs/", {"period_end": "tomorrow"}, format="json"),
        400,
        "validation_error",
        "period_end",
    )


def test_no_batch_without_pending_payouts(staff):
    assert_error(staff.post("/api/v1/bank-batches/", {}, format="json"), 409, "conflict")


def test_files_are_answered_to_a_client_asking_for_their_type(staff, manager, delivered_order):
    from payments.services.collecting import AllocationRequest, bank_transfer_record
    from payments.services.settlement import settlement_run

    bank_transfer_record(
        user=staff.user,
        organisation=delivered_order.organisation,
        bank_reference="ACCEPT-1",
        amount=delivered_order.total,
        received_on=delivered_order.created_at.date(),
        allocations=[AllocationRequest(delivered_order.pk)],
    )
    statement = settlement_run().statements.get()
    csv_file = manager.get(f"/api/v1/statements/{statement.pk}/csv/", HTTP_ACCEPT="text/csv")
    assert csv_file.status_code == 200 and csv_file["Content-Type"] == "text/csv"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    xlsx_file = manager.get(f"/api/v1/statements/{statement.pk}/xlsx/", HTTP_ACCEPT=xlsx)
    assert xlsx_file.status_code == 200 and xlsx_file["Content-Type"] == xlsx
    missing = manager.get("/api/v1/statements/999999/csv/", HTTP_ACCEPT="text/csv")
    assert_error(missing, 404, "not_found")
    assert missing["Content-Type"] == "application/json"


def test_no_future_dates(staff, partner):
    response = staff.post("/api/v1/settlement-runs/", {"period_end": "9999-12-31"}, format="json")
    assert_error(response, 400, "validation_error", "period_end")
    response = partner.post(TRANSFERS, transfer_body(received_on="9999-12-31"), format="json")
    assert_error(response, 400, "validation_error", "received_on")
