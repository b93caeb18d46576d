"""Shipments and delivery notes as CSV and XLSX: whoever reads the list reads the export, the
same rows (never another organisation's or cooperative's), headers in the request's language,
formulas kept as text."""

import csv
import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from logistics.models import Shipment
from logistics.services import runs_plan
from orders.services.transitions import fulfilment_pack
from tests.factories import LotFactory
from tests.languages import said
from tests.logistics.helpers import confirmed_part, daily_schedule

pytestmark = pytest.mark.django_db
API = "/api/v1/"
HOUR = datetime.timedelta(hours=1)


def rows_of_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def rows_of_xlsx(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


@pytest.fixture
def part(purchaser_user, store, manager_user, cooperative):
    return confirmed_part(
        purchaser=purchaser_user, store=store, manager=manager_user, cooperative=cooperative
    )


@pytest.fixture
def other_part(other_purchaser_user, other_store, other_manager_user, other_cooperative):
    return confirmed_part(
        purchaser=other_purchaser_user,
        store=other_store,
        manager=other_manager_user,
        cooperative=other_cooperative,
    )


def _shipment(fulfilment, user, tracking: str) -> Shipment:
    start = timezone.now() + 24 * HOUR
    return Shipment.objects.create(
        fulfilment=fulfilment,
        mode=Shipment.Mode.CARRIER,
        carrier_name="长和长远物流",
        tracking_number=tracking,
        package_count=3,
        weight_kg="75.00",
        window_start=start,
        window_end=start + 2 * HOUR,
        recorded_by=user,
    )


@pytest.fixture
def shipments(part, other_part, manager_user, other_manager_user):
    return _shipment(part, manager_user, "=cmd|' /C calc'!A0"), _shipment(
        other_part, other_manager_user, "SF-2"
    )


def test_shipments_export_the_rows_the_list_shows(
    purchaser, manager, staff, shipments, store, request_language
):
    mine, theirs = shipments
    rows = rows_of_csv(purchaser.get(API + "shipments/csv/"))
    assert rows[0][:3] == [said(request_language, w) for w in ("shipment", "fulfilment", "order")]
    assert [row[0] for row in rows[1:]] == [str(mine.pk)]  # never another organisation's
    assert rows[1][4] == store.name and rows[1][10] == "'=cmd|' /C calc'!A0"  # kept as text
    assert [row[0] for row in rows_of_csv(manager.get(API + "shipments/csv/"))[1:]] == [
        str(mine.pk)
    ]
    sheet = rows_of_xlsx(staff.get(API + "shipments/xlsx/"))
    assert {row[0] for row in sheet[1:]} == {mine.pk, theirs.pk}


def test_shipment_headers_are_chinese_when_asked(purchaser, shipments):
    rows = rows_of_csv(purchaser.get(API + "shipments/csv/", HTTP_ACCEPT_LANGUAGE="zh-CN"))
    assert rows[0][0] == "发运"
    sheet = rows_of_xlsx(purchaser.get(API + "shipments/xlsx/", HTTP_ACCEPT_LANGUAGE="zh-Hans"))
    assert sheet[0][0] == "发运"


def test_delivery_notes_export_one_row_per_line_and_lot(
    purchaser, manager, manager_user, other_purchaser, part, other_part, store, request_language
):
    line = part.lines.get()
    LotFactory(listing=line.listing, code="LOT-A", quantity="6")
    LotFactory(listing=line.listing, code="LOT-B", quantity="20")
    fulfilment_pack(fulfilment=part, user=manager_user)
    rows = rows_of_csv(purchaser.get(API + "delivery-notes/csv/"))
    assert rows[0] == [
        said(request_language, word)
        for word in (
            "fulfilment",
            "order",
            "store",
            "cooperative",
            "listing",
            "product",
            "lot",
            "quantity",
            "unit",
        )
    ]
    assert [(row[0], row[2], row[6], row[7]) for row in rows[1:]] == [
        (str(part.pk), store.name, "LOT-A", "6.000"),
        (str(part.pk), store.name, "LOT-B", "4.000"),
    ]
    theirs = rows_of_xlsx(other_purchaser.get(API + "delivery-notes/xlsx/"))
    assert [row[0] for row in theirs[1:]] == [other_part.pk]  # an unpacked part: no lot yet
    assert theirs[1][6] is None and str(theirs[1][7]) == "10"
    assert rows_of_csv(manager.get(API + f"delivery-notes/csv/?order={other_part.order_id}")) == [
        rows[0]
    ]


def test_delivery_notes_of_one_run(staff, part, other_part):
    daily_schedule()
    runs_plan()
    part.refresh_from_db()
    run = part.run_assignment.run
    rows = rows_of_csv(staff.get(API + f"delivery-notes/csv/?run={run.pk}"))
    assert {row[0] for row in rows[1:]} == {str(part.pk), str(other_part.pk)}
    assert rows_of_csv(staff.get(API + "delivery-notes/csv/?run=999999"))[1:] == []


def test_bad_export_filters_are_400s(staff):
    response = staff.get(API + "delivery-notes/csv/?run=abc")
    assert response.status_code == 400 and response.json()["error"]["fields"]["run"]
