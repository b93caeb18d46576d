"""The logistics API: schedules, runs and manifests, shipments and delays, delivery notes;
bad input answers 4xx in the one error shape and writes nothing."""

import csv
import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from logistics.models import DeliverySchedule, RunAssignment, Shipment
from logistics.services import runs_plan
from orders.models import EventKind, OrderEvent
from tests.conftest import assert_error
from tests.logistics.helpers import confirmed_part, daily_schedule

pytestmark = pytest.mark.django_db
API = "/api/v1/"
HOUR = datetime.timedelta(hours=1)


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


def shipment_body(part, **overrides):
    start = timezone.now() + 24 * HOUR
    return {
        "fulfilment": part.pk,
        "mode": "own_vehicle",
        "vehicle_plate": "贵E·12345",
        "driver_name": "韦师傅",
        "driver_phone": "139 0000 1234",
        "package_count": 12,
        "weight_kg": "306.50",
        "window_start": start.isoformat(),
        "window_end": (start + 3 * HOUR).isoformat(),
        **overrides,
    }


# --- schedules ---------------------------------------------------------------------------------
def test_staff_define_a_schedule_and_everyone_reads_it(staff, manager, purchaser):
    body = {"name": "周二周五", "weekdays": [4, 1], "departure_time": "06:00", "cutoff_hours": 14}
    response = staff.post(API + "delivery-schedules/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["weekdays"] == [1, 4]
    assert DeliverySchedule.objects.get().weekdays == 0b10010
    for client in (manager, purchaser):
        assert client.get(API + "delivery-schedules/").json()["results"][0]["name"] == "周二周五"


@pytest.mark.parametrize(
    "weekdays", [[], [7], [-1], [1, 1], ["１"]], ids=["none", "eight", "neg", "twice", "wide"]
)
def test_a_schedule_with_bad_weekdays_is_refused(staff, weekdays):
    body = {"name": "x", "weekdays": weekdays, "departure_time": "06:00", "cutoff_hours": 12}
    error = assert_error(staff.post(API + "delivery-schedules/", body, format="json"), 400)
    assert all(path.split(".")[0] == "weekdays" for path in error["fields"]), error
    assert not DeliverySchedule.objects.exists()


def test_managers_do_not_define_schedules(manager):
    body = {"name": "x", "weekdays": [1], "departure_time": "06:00", "cutoff_hours": 12}
    assert_error(manager.post(API + "delivery-schedules/", body, format="json"), 403)


# --- shipments ---------------------------------------------------------------------------------
def test_a_manager_records_the_shipment_of_their_part(manager, part):
    response = manager.post(API + "shipments/", shipment_body(part), format="json")
    assert response.status_code == 201, response.content
    shipment = Shipment.objects.get(fulfilment=part)
    assert shipment.driver_phone == "+8613900001234"  # stored as E.164
    assert response.json()["weight_kg"] == "306.50"
    event = OrderEvent.objects.get(fulfilment=part, kind=EventKind.SHIPMENT_RECORDED)
    assert "12" in event.note


def test_a_shipment_for_another_cooperatives_part_is_refused_and_nothing_written(
    manager, other_part
):
    response = manager.post(API + "shipments/", shipment_body(other_part), format="json")
    assert_error(response, 400, "validation_error", field="fulfilment")
    assert not Shipment.objects.exists()
    assert not OrderEvent.objects.filter(kind=EventKind.SHIPMENT_RECORDED).exists()


def test_a_buyer_records_no_shipment(purchaser, part):
    assert_error(purchaser.post(API + "shipments/", shipment_body(part), format="json"), 403)
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"fulfilment": 10**15}, "fulfilment"),
        ({"package_count": 0}, "package_count"),
        ({"weight_kg": "0"}, "weight_kg"),
        ({"mode": "carrier"}, "carrier_name"),  # a carrier must be named
        ({"driver_phone": "12345"}, "driver_phone"),
    ],
    ids=["unknown-part", "no-packages", "no-weight", "carrier-unnamed", "bad-phone"],
)
def test_bad_shipments_are_refused(manager, part, overrides, field):
    response = manager.post(API + "shipments/", shipment_body(part, **overrides), format="json")
    assert_error(response, 400, field=field)
    assert not Shipment.objects.exists()


def test_a_window_that_ends_before_it_starts_is_refused(manager, part):
    start = timezone.now() + 24 * HOUR
    body = shipment_body(
        part, window_start=start.isoformat(), window_end=(start - HOUR).isoformat()
    )
    assert_error(manager.post(API + "shipments/", body, format="json"), 400, field="window_end")


def test_a_second_shipment_for_a_part_is_refused(manager, part):
    assert manager.post(API + "shipments/", shipment_body(part), format="json").status_code == 201
    response = manager.post(API + "shipments/", shipment_body(part), format="json")
    assert_error(response, 400, field="fulfilment")
    assert Shipment.objects.count() == 1


def test_a_placed_part_has_no_shipment_yet(manager, purchaser_user, store, cooperative):
    from decimal import Decimal

    from tests.factories import ListingFactory, place_order

    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    placed = place_order(purchaser_user, store, (listing, "10")).fulfilments.get()
    response = manager.post(API + "shipments/", shipment_body(placed), format="json")
    assert_error(response, 409, "illegal_transition")
    assert not Shipment.objects.exists()


@pytest.fixture
def shipment(manager, part):
    response = manager.post(API + "shipments/", shipment_body(part), format="json")
    return Shipment.objects.get(pk=response.json()["id"])


def test_a_delay_moves_the_window_and_is_an_order_event(manager, purchaser, shipment):
    start = timezone.now() + 48 * HOUR
    body = {
        "window_start": start.isoformat(),
        "window_end": (start + 2 * HOUR).isoformat(),
        "reason": "山路塌方，绕行",
    }
    response = manager.post(API + f"shipments/{shipment.pk}/delay/", body, format="json")
    assert response.status_code == 200, response.content
    shipment.refresh_from_db()
    assert shipment.window_start == start
    order_id = shipment.fulfilment.order_id
    events = purchaser.get(API + f"orders/{order_id}/events/").json()
    delayed = [e for e in events if e["kind"] == "delayed"]
    assert len(delayed) == 1 and "山路塌方" in delayed[0]["note"]


def test_a_delay_into_the_past_is_refused_and_nothing_written(manager, shipment):
    before = (shipment.window_start, shipment.window_end)
    start = timezone.now() - 5 * HOUR
    body = {
        "window_start": start.isoformat(),
        "window_end": (start + 2 * HOUR).isoformat(),
        "reason": "晚了",
    }
    response = manager.post(API + f"shipments/{shipment.pk}/delay/", body, format="json")
    assert_error(response, 400, "validation_error", field="window_end")
    shipment.refresh_from_db()
    assert (shipment.window_start, shipment.window_end) == before
    assert not OrderEvent.objects.filter(kind=EventKind.DELAYED).exists()


def test_a_delay_needs_a_reason(manager, shipment):
    start = timezone.now() + 48 * HOUR
    body = {"window_start": start.isoformat(), "window_end": (start + HOUR).isoformat()}
    assert_error(
        manager.post(API + f"shipments/{shipment.pk}/delay/", body, format="json"),
        400,
        field="reason",
    )


def test_another_cooperative_cannot_see_or_delay_the_shipment(other_manager, shipment):
    assert_error(other_manager.get(API + f"shipments/{shipment.pk}/"), 404, "not_found")
    start = timezone.now() + 48 * HOUR
    body = {
        "window_start": start.isoformat(),
        "window_end": (start + HOUR).isoformat(),
        "reason": "x",
    }
    response = other_manager.post(API + f"shipments/{shipment.pk}/delay/", body, format="json")
    assert_error(response, 404, "not_found")
    assert not OrderEvent.objects.filter(kind=EventKind.DELAYED).exists()


def test_a_patch_corrects_details_but_not_the_window(manager, shipment):
    url = API + f"shipments/{shipment.pk}/"
    response = manager.patch(url, {"tracking_number": "SF1234567890"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["tracking_number"] == "SF1234567890"
    later = (timezone.now() + 99 * HOUR).isoformat()
    response = manager.patch(url, {"window_end": later}, format="json")
    # The window is not a field of the PATCH: ignored, and the shipment's stays.
    assert response.status_code == 200
    shipment.refresh_from_db()
    assert shipment.window_end != datetime.datetime.fromisoformat(later)


def test_buyers_read_their_own_shipments_only(purchaser, other_purchaser, shipment):
    assert [s["id"] for s in purchaser.get(API + "shipments/").json()["results"]] == [shipment.pk]
    assert other_purchaser.get(API + "shipments/").json()["results"] == []


# --- runs and manifests ------------------------------------------------------------------------
@pytest.fixture
def planned(part, other_part, shipment):
    daily_schedule()
    runs_plan()
    run = RunAssignment.objects.get(fulfilment=part).run
    assert RunAssignment.objects.get(fulfilment=other_part).run == run
    return run


def test_staff_read_the_whole_manifest_in_stop_order(staff, planned, part, other_part, store):
    response = staff.get(API + f"delivery-runs/{planned.pk}/manifest/")
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    assert [row["fulfilment"] for row in rows] == [part.pk, other_part.pk]
    assert [row["stop"] for row in rows] == [1, 2]
    assert rows[0]["store"] == store.name and rows[0]["package_count"] == 12
    assert rows[0]["weight_kg"] == "306.50"
    assert rows[1]["package_count"] is None  # no shipment recorded yet


def test_a_manager_and_a_buyer_see_only_their_own_rows(manager, purchaser, planned, part):
    for client in (manager, purchaser):
        rows = client.get(API + f"delivery-runs/{planned.pk}/manifest/").json()["rows"]
        assert [row["fulfilment"] for row in rows] == [part.pk]


def test_a_run_not_carrying_your_parts_is_not_found(planned, organisation, db):
    from buyers.models import Membership
    from tests.conftest import client_for
    from tests.factories import BuyerOrganisationFactory, MembershipFactory

    stranger = client_for(
        MembershipFactory(
            organisation=BuyerOrganisationFactory(), role=Membership.Role.PURCHASER
        ).user
    )
    assert_error(stranger.get(API + f"delivery-runs/{planned.pk}/"), 404)
    assert_error(stranger.get(API + f"delivery-runs/{planned.pk}/manifest/"), 404)
    assert stranger.get(API + "delivery-runs/").json()["results"] == []


def test_the_manifest_as_csv_and_xlsx(staff, planned, part, store):
    response = staff.get(API + f"delivery-runs/{planned.pk}/manifest/?export=csv&lang=en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Stop" and len(rows) == 3
    assert rows[1][1] == str(part.pk) and store.name in rows[1]

    response = staff.get(API + f"delivery-runs/{planned.pk}/manifest/?export=xlsx&lang=en")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Stop" and values[1][1] == part.pk and len(values) == 3


def test_the_manifest_headers_are_chinese_unless_english_is_asked(staff, planned):
    # A document for drivers and loaders: zh-Hans whatever the client's Accept-Language.
    response = staff.get(
        API + f"delivery-runs/{planned.pk}/manifest/?export=csv", HTTP_ACCEPT_LANGUAGE="en"
    )
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("站点,")
    sheet = load_workbook(
        io.BytesIO(staff.get(API + f"delivery-runs/{planned.pk}/manifest/?export=xlsx").content)
    ).active
    assert sheet["A1"].value == "站点"


def test_text_that_looks_like_a_formula_stays_text(staff, planned, store):
    store.name = '=HYPERLINK("http://example.com","x")'
    store.contact_phone = "+8613900001111"
    store.save()
    url = API + f"delivery-runs/{planned.pk}/manifest/?lang=en&export="
    rows = list(csv.reader(io.StringIO(staff.get(url + "csv").content.decode("utf-8-sig"))))
    assert rows[1][5] == "'" + store.name
    assert rows[1][8] == "+8613900001111"  # a phone stays a phone
    sheet = load_workbook(io.BytesIO(staff.get(url + "xlsx").content)).active
    assert sheet["F2"].value == store.name and sheet["F2"].data_type == "s"


def test_control_characters_in_stored_text_do_not_break_the_xlsx(staff, planned, store):
    # XML cannot carry them; openpyxl refused the whole file (a 500 found by the fuzz).
    store.name = "Store\x1b\x01 one"
    store.save()
    url = API + f"delivery-runs/{planned.pk}/manifest/?lang=en&export=xlsx"
    response = staff.get(url)
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active["F2"].value == "Store one"


def test_an_unknown_export_is_a_400(staff, planned):
    response = staff.get(API + f"delivery-runs/{planned.pk}/manifest/?export=pdf")
    assert_error(response, 400, field="export")


# --- delivery notes ----------------------------------------------------------------------------
def test_the_delivery_note_is_html_in_chinese(manager, planned, part, store):
    response = manager.get(API + f"delivery-notes/{part.pk}/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "送货单" in html and "收货人签字" in html and "送货人签字" in html
    assert store.name in html and store.address in html
    lot_code = part.lines.get().listing.lots.first()
    assert lot_code is None or lot_code.code in html


def test_the_delivery_note_in_english_when_asked(purchaser, part):
    html = purchaser.get(API + f"delivery-notes/{part.pk}/?lang=en").content.decode()
    assert "Delivery note" in html and "Received by (signature)" in html


def test_an_unknown_language_is_a_400(purchaser, part):
    assert_error(purchaser.get(API + f"delivery-notes/{part.pk}/?lang=fr"), 400, field="lang")


def test_another_cooperative_gets_no_delivery_note(other_manager, part):
    assert_error(other_manager.get(API + f"delivery-notes/{part.pk}/"), 404)
    assert_error(other_manager.post(API + f"delivery-notes/{part.pk}/link/"), 404)


def test_a_signed_link_opens_the_note_without_signing_in(manager, anon, part, store):
    response = manager.post(API + f"delivery-notes/{part.pk}/link/")
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    page = anon.get(url)
    assert page.status_code == 200 and store.name in page.content.decode()
    assert anon.get(url.replace("/notes/", "/notes/x")).status_code == 404


def test_a_signed_link_stops_working_when_it_expires(manager, anon, part, settings):
    url = manager.post(API + f"delivery-notes/{part.pk}/link/").json()["url"]
    settings.DELIVERY_NOTE_LINK_TTL = datetime.timedelta(seconds=-1)
    assert anon.get(url).status_code == 404


def test_a_signed_link_follows_the_users_access(manager, manager_user, cooperative, anon, part):
    url = manager.post(API + f"delivery-notes/{part.pk}/link/").json()["url"]
    cooperative.managers.remove(manager_user)
    assert anon.get(url).status_code == 404
