"""Orders as CSV and XLSX (GET /api/v1/orders/csv/, xlsx/): the orders the list shows, with
its filters, one row per line; another organisation's orders never; headers in the request's
language; text that looks like a formula kept as text."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import assert_error
from tests.factories import ListingFactory, StoreFactory, place_order
from tests.languages import said

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/"


def rows_of_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def orders(purchaser_user, other_purchaser_user, store, other_store, cooperative, organisation):
    honey = ListingFactory(cooperative=cooperative)
    tongcao = ListingFactory(cooperative=cooperative)
    second = StoreFactory(organisation=organisation, name="=1+2")
    mine = place_order(purchaser_user, store, (honey, "10"), (tongcao, "100"))
    elsewhere = place_order(purchaser_user, second, (honey, "15"))
    theirs = place_order(other_purchaser_user, other_store, (honey, "20"))
    return mine, elsewhere, theirs


def test_a_buyer_exports_its_own_orders_one_row_per_line(purchaser, orders, request_language):
    mine, elsewhere, theirs = orders
    rows = rows_of_csv(purchaser.get(URL + "csv/"))
    header = ["order", "placed at", "order status", "store"]
    assert rows[0][:4] == [said(request_language, word) for word in header]
    assert sorted(int(row[0]) for row in rows[1:]) == [mine.pk, mine.pk, elsewhere.pk]
    assert str(theirs.pk) not in {row[0] for row in rows[1:]}
    by_listing = {row[7]: row for row in rows[1:] if row[0] == str(mine.pk)}
    assert {row[13] for row in by_listing.values()} == {"68.00", "60.00"}
    assert all(row[15] == str(mine.total) for row in by_listing.values())
    assert "'=1+2" in {row[3] for row in rows[1:]}  # a store named like a formula stays text


def test_the_lists_filters_narrow_the_export(purchaser, orders, store):
    mine, _elsewhere, _theirs = orders
    rows = rows_of_csv(purchaser.get(URL + f"csv/?store={store.pk}"))
    assert {row[0] for row in rows[1:]} == {str(mine.pk)}
    assert rows_of_csv(purchaser.get(URL + "csv/?status=shipped"))[1:] == []
    assert_error(purchaser.get(URL + "csv/?store=abc"), 400, field="store")


def test_staff_export_every_order_and_managers_none(staff, manager, orders):
    response = staff.get(URL + "xlsx/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 200
    sheet = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "订单" and len(sheet) == 1 + 4
    assert Decimal(str(sheet[1][9])) > 0
    assert_error(manager.get(URL + "csv/"), 403)


def test_an_export_too_large_asks_for_filters(purchaser, orders, monkeypatch):
    monkeypatch.setattr("orders.views.EXPORT_MAX_ORDERS", 1)
    assert_error(purchaser.get(URL + "csv/"), 400, field="placed_after")
