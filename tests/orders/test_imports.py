"""Purchase lists (POST /api/v1/purchase-imports/, then …/{id}/place/): a CSV or XLSX read
into a preview with row-level errors, placed as orders through order_place, once, all or
nothing; and every file that cannot be a purchase list refused with a 4xx, nothing written."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook

from orders.models import Order, PurchaseImport, PurchaseImportOrder
from products.models import Listing
from tests.conftest import assert_error
from tests.factories import CooperativeFactory, ListingFactory, StoreFactory, place_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/purchase-imports/"
D = Decimal


@pytest.fixture
def listing(cooperative):
    """100 kg on hand, MOQ 10, increment 5, tiers 10 → 68.00 and 100 → 60.00."""
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def other_listing():
    """Another cooperative's listing, same rules."""
    return ListingFactory(cooperative=CooperativeFactory())


def csv_file(text: str, *, encoding="utf-8", name="list.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode(encoding))
    upload.name = name
    return upload


def xlsx_file(rows, *, name="list.xlsx") -> io.BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = name
    return upload


def upload(client, file, **extra):
    return client.post(URL, {"file": file}, format="multipart", **extra)


def previewed(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def nothing_written():
    assert not PurchaseImport.objects.exists()
    assert not Order.objects.exists()


# --- previews ----------------------------------------------------------------------------------
def test_a_csv_preview_resolves_rows_prices_them_and_groups_them_per_store(
    purchaser, listing, other_listing, store, organisation
):
    second = StoreFactory(organisation=organisation, name="花果园店")
    text = (
        "listing,quantity,store\n"
        f"{listing.pk},100,{store.name}\n"
        f"{other_listing.pk},10,{store.pk}\n"
        f"{listing.pk},15,花果园店\n"
    )
    preview = previewed(upload(purchaser, csv_file(text)))
    assert preview["status"] == "previewed" and preview["error_count"] == 0
    first = preview["rows"][0]
    assert first["row"] == 2 and first["listing"] == listing.pk
    assert first["cooperative"] == listing.cooperative_id
    assert (first["unit_price"], first["line_total"]) == ("60.00", "6000.00")  # the 100 tier
    assert preview["rows"][2]["unit_price"] == "68.00"
    groups = {group["store"]: group for group in preview["groups"]}
    assert groups[store.pk]["rows"] == [2, 3] and groups[store.pk]["total"] == "6680.00"
    assert len(groups[store.pk]["parts"]) == 2  # two cooperatives, as placing splits them
    assert groups[second.pk]["rows"] == [4]
    assert not Order.objects.exists()  # a preview places nothing
    listing.refresh_from_db()
    assert listing.stock_reserved == 0


def test_chinese_headers_and_an_xlsx_file(purchaser, listing, store):
    rows = [["商品编号", "数量", "门店"], [listing.pk, 20, store.name], [None, None, None]]
    preview = previewed(upload(purchaser, xlsx_file(rows)))
    assert [(row["listing"], row["quantity"]) for row in preview["rows"]] == [
        (listing.pk, "20.000")
    ]


def test_a_product_names_its_one_live_listing_and_two_are_ambiguous(
    purchaser, listing, store, cooperative
):
    text = f"product,quantity,store\n{listing.product.name_zh},10,{store.name}\n"
    assert previewed(upload(purchaser, csv_file(text)))["rows"][0]["listing"] == listing.pk
    ListingFactory(cooperative=CooperativeFactory(), product=listing.product, grade="special")
    row = previewed(upload(purchaser, csv_file(text)))["rows"][0]
    assert row["listing"] is None and row["errors"][0]["code"] == "ambiguous"


def test_bad_rows_are_kept_with_their_errors_and_the_good_ones_resolved(
    purchaser, listing, store, other_store
):
    paused = ListingFactory(status=Listing.Status.PAUSED)
    text = (
        "listing,quantity,store\n"
        f"{listing.pk},10,{store.name}\n"  # good
        f"{listing.pk},12,{store.name}\n"  # off the increment, and the listing again
        f"{paused.pk},10,{store.name}\n"  # not on sale
        f"{listing.pk},10,{other_store.name}\n"  # another organisation's store
        f"abc,10,{store.name}\n"
        f"{listing.pk},1e9,{store.name}\n"
        f"{listing.pk},500,{store.name}\n"  # more than the stock
    )
    preview = previewed(upload(purchaser, csv_file(text)))
    errors = {
        row["row"]: {(e["column"], e["code"]) for e in row["errors"]} for row in preview["rows"]
    }
    assert errors[2] == set()
    assert errors[3] == {("quantity", "quantity_rule"), ("listing", "repeated")}
    assert errors[4] == {("listing", "not_on_sale")}
    assert errors[5] == {("store", "unknown_store")}
    assert errors[6] == {("listing", "invalid")}
    assert errors[7] == {("quantity", "invalid")}
    assert ("quantity", "insufficient_stock") in errors[8]
    assert preview["error_count"] == 6
    assert all(e["message"] for row in preview["rows"] for e in row["errors"])
    assert_error(purchaser.post(f"{URL}{preview['id']}/place/"), 409, "conflict")
    assert not Order.objects.exists()


def test_a_part_below_the_cooperatives_minimum_is_an_error_of_its_order(
    purchaser, listing, store, cooperative
):
    cooperative.min_order_value = D("5000.00")
    cooperative.save()
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    preview = previewed(upload(purchaser, csv_file(text)))
    assert preview["groups"][0]["errors"][0]["code"] == "below_minimum_order_value"
    assert preview["error_count"] == 1


def test_gbk_and_utf8_with_bom_are_read(purchaser, listing, store, organisation):
    StoreFactory(organisation=organisation, name="南明店")
    text = f"商品编号,数量,门店\n{listing.pk},10,南明店\n"
    for encoding in ("gbk", "gb18030", "utf-8-sig", "utf-8"):
        preview = previewed(upload(purchaser, csv_file(text, encoding=encoding)))
        assert preview["rows"][0]["errors"] == [], encoding


# --- placing -----------------------------------------------------------------------------------
def test_placing_makes_one_order_per_store_and_placing_again_makes_nothing_more(
    purchaser, approver, listing, other_listing, store, organisation
):
    second = StoreFactory(organisation=organisation)
    text = (
        "listing,quantity,store\n"
        f"{listing.pk},20,{store.name}\n"
        f"{other_listing.pk},10,{store.name}\n"
        f"{listing.pk},10,{second.name}\n"
    )
    preview = previewed(upload(purchaser, csv_file(text)))
    response = purchaser.post(f"{URL}{preview['id']}/place/")
    assert response.status_code == 200, response.content
    placed = response.json()
    assert placed["status"] == "placed"
    orders = {entry["store"]: entry["order"] for entry in placed["orders"]}
    assert set(orders) == {store.pk, second.pk}
    first = Order.objects.get(pk=orders[store.pk])
    assert first.fulfilments.count() == 2 and first.total == D("1360.00") + D("680.00")
    listing.refresh_from_db()
    assert listing.stock_reserved == D("30")

    again = approver.post(f"{URL}{preview['id']}/place/")  # anyone of the team, any time
    assert again.status_code == 200 and again.json()["orders"] == placed["orders"]
    assert Order.objects.count() == 2 and PurchaseImportOrder.objects.count() == 2
    listing.refresh_from_db()
    assert listing.stock_reserved == D("30")


def test_stock_gone_since_the_preview_refuses_every_order_naming_the_row(
    purchaser, purchaser_user, listing, other_listing, store, organisation
):
    second = StoreFactory(organisation=organisation)
    text = (
        "listing,quantity,store\n"
        f"{other_listing.pk},10,{store.name}\n"
        f"{listing.pk},60,{second.name}\n"
    )
    preview = previewed(upload(purchaser, csv_file(text)))
    place_order(purchaser_user, store, (listing, "50"))  # only 50 left now
    error = assert_error(
        purchaser.post(f"{URL}{preview['id']}/place/"), 409, "insufficient_stock", "rows.3.quantity"
    )
    assert error["available"] == {str(listing.pk): "50"}
    assert Order.objects.count() == 1  # the one placed by hand; the store before is undone
    other_listing.refresh_from_db()
    assert other_listing.stock_reserved == 0
    assert PurchaseImport.objects.get().status == "previewed"


def test_an_expired_preview_is_refused(purchaser, listing, store):
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    preview = previewed(upload(purchaser, csv_file(text)))
    PurchaseImport.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert_error(purchaser.post(f"{URL}{preview['id']}/place/"), 409, "conflict")
    assert not Order.objects.exists()


def test_another_organisations_preview_is_not_found(purchaser, other_purchaser, listing, store):
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    preview = previewed(upload(purchaser, csv_file(text)))
    assert_error(other_purchaser.get(f"{URL}{preview['id']}/"), 404)
    assert_error(other_purchaser.post(f"{URL}{preview['id']}/place/"), 404)
    assert other_purchaser.get(URL).json()["results"] == []
    assert not Order.objects.exists()


def test_an_upload_retried_with_its_idempotency_key_answers_the_same_preview(
    purchaser, listing, store
):
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    first = previewed(upload(purchaser, csv_file(text), HTTP_IDEMPOTENCY_KEY="list-1"))
    again = upload(purchaser, csv_file(text), HTTP_IDEMPOTENCY_KEY="list-1")
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    other = csv_file(text.replace(",10,", ",15,"))
    assert_error(upload(purchaser, other, HTTP_IDEMPOTENCY_KEY="list-1"), 422)
    assert PurchaseImport.objects.count() == 1


# --- files refused -----------------------------------------------------------------------------
def test_unknown_and_missing_columns_are_named(purchaser, listing, store):
    error = assert_error(
        upload(purchaser, csv_file("listing,quantity,store,price\n1,10,x\n")), 400, field="file"
    )
    assert "price" in error["fields"]["file"][0]
    error = assert_error(upload(purchaser, csv_file("listing,store\n1,x\n")), 400, field="file")
    assert error["fields"]["file"]
    assert_error(upload(purchaser, csv_file("quantity,store\n10,x\n")), 400, field="file")
    assert_error(upload(purchaser, csv_file("listing,数量,quantity,store\n")), 400, field="file")
    nothing_written()


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
)
def test_a_formula_in_a_csv_is_refused(purchaser, listing, store, cell):
    quoted = cell.replace('"', '""')
    text = f'listing,quantity,store\n{listing.pk},"{quoted}",{store.name}\n'
    assert_error(upload(purchaser, csv_file(text)), 400, "validation_error", "file")
    nothing_written()


def test_a_formula_cell_in_an_xlsx_is_refused(purchaser, listing, store):
    rows = [["listing", "quantity", "store"], [listing.pk, "=5*2", store.name]]
    assert_error(upload(purchaser, xlsx_file(rows)), 400, "validation_error", "file")
    nothing_written()


def test_a_file_over_the_limit_is_refused_before_it_is_read(purchaser, settings):
    big = io.BytesIO(b"listing,quantity,store\n" + b"1,10,x\n" * (20 * 1024 * 1024 // 7))
    big.name = "big.csv"
    assert_error(upload(purchaser, big), 413, "request_too_large")
    settings.PURCHASE_IMPORT_MAX_BYTES = 100  # the file's own size, after the body is read
    assert_error(
        upload(purchaser, csv_file("listing,quantity,store\n" + "1,10,x\n" * 20)),
        413,
        "request_too_large",
    )
    nothing_written()


def test_too_many_rows_are_refused(purchaser, settings):
    settings.PURCHASE_IMPORT_MAX_ROWS = 5
    assert_error(
        upload(purchaser, csv_file("listing,quantity,store\n" + "1,10,x\n" * 6)), 400, field="file"
    )
    nothing_written()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"listing,quantity,store\n",  # a header and no rows
        b"listing,quantity,store\n1,10,\x00x\n",  # NUL
        "商品编号,数量,门店\n".encode("utf-16"),  # NUL bytes too: not a CSV we read
        b"listing,quantity,store\n1,10,\xff\xfe\xfa\n",  # neither UTF-8 nor GB18030
        b'listing,quantity,store\n1,10,"open\n',  # a quote never closed
    ],
)
def test_unreadable_csvs_are_refused(purchaser, content):
    upload_file = io.BytesIO(content)
    upload_file.name = "list.csv"
    assert_error(upload(purchaser, upload_file), 400, "validation_error", "file")
    nothing_written()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls",
        _zip({"hello.txt": b"not a workbook"}),
        _zip({"xl/worksheets/sheet1.xml": b"\x00" * (60 * 1024 * 1024)}),  # a zip bomb
    ],
)
def test_files_that_are_not_workbooks_are_refused(purchaser, content):
    upload_file = io.BytesIO(content)
    upload_file.name = "list.xlsx"
    assert_error(upload(purchaser, upload_file), 400, "validation_error", "file")
    nothing_written()


def test_a_body_without_a_file_is_refused(purchaser):
    assert_error(purchaser.post(URL, {"note": "x"}, format="multipart"), 400, field="file")
    assert_error(purchaser.post(URL, {"file": "x"}, format="json"), 415)
    nothing_written()


def test_who_may_upload(manager, staff, listing, store):
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    assert_error(upload(manager, csv_file(text)), 403)
    assert_error(upload(staff, csv_file(text)), 403)  # staff place no orders
    nothing_written()


def test_a_file_name_keeps_only_printable_characters(purchaser, listing, store):
    text = f"listing,quantity,store\n{listing.pk},10,{store.name}\n"
    preview = previewed(upload(purchaser, csv_file(text, name="采购\x00单\x1b.csv")))
    assert PurchaseImport.objects.get(pk=preview["id"]).file_name == "采购单.csv"
