"""The inbox (GET /notices/): a user's own notices, the unread count, mark-read, and ETag
revalidation so a phone can poll cheaply."""

from decimal import Decimal

import pytest

from notices.models import Notice
from tests.conftest import assert_error
from tests.factories import ListingFactory, place_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/notices/"


@pytest.fixture
def placed(purchaser_user, store, cooperative, manager_user):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    return place_order(purchaser_user, store, (listing, "10"))


def test_the_inbox_lists_only_your_own_notices_with_the_unread_count(
    placed, manager, purchaser, other_manager, manager_user
):
    body = manager.get(URL).json()
    assert body["unread"] == 1
    [notice] = body["results"]
    assert notice["event_type"] == "order.placed"
    assert notice["read_at"] is None
    assert notice["payload"]["data"]["order"] == placed.pk
    assert set(notice) == {
        "id",
        "event_type",
        "subject",
        "body",
        "payload",
        "created_at",
        "read_at",
    }
    assert Notice.objects.get(pk=notice["id"]).user == manager_user

    assert other_manager.get(URL).json() == {
        "next": None,
        "previous": None,
        "results": [],
        "unread": 0,
    }
    # Another's notice is a 404, as if it did not exist.
    assert_error(purchaser.get(f"{URL}{notice['id']}/"), 404, "not_found")
    assert_error(purchaser.post(f"{URL}{notice['id']}/read/"), 404, "not_found")


def test_mark_read_one_and_all(placed, purchaser, purchaser_user, manager_user):
    from orders.services import transitions

    transitions.fulfilment_confirm(fulfilment=placed.fulfilments.get(), user=manager_user)
    body = purchaser.get(URL).json()
    assert body["unread"] == 2
    newest = body["results"][0]

    read = purchaser.post(f"{URL}{newest['id']}/read/")
    assert read.status_code == 200, read.content
    assert read.json()["read_at"]
    again = purchaser.post(f"{URL}{newest['id']}/read/")
    assert again.json()["read_at"] == read.json()["read_at"]  # the first time is kept
    assert purchaser.get(URL).json()["unread"] == 1
    assert purchaser.get(URL, {"unread": "true"}).json()["results"][0]["id"] != newest["id"]

    marked = purchaser.post(f"{URL}read-all/")
    assert marked.json() == {"marked": 1}
    assert purchaser.get(URL).json()["unread"] == 0
    assert purchaser.post(f"{URL}read-all/").json() == {"marked": 0}


def test_an_unchanged_inbox_answers_304(placed, manager):
    first = manager.get(URL)
    etag = first["ETag"]
    assert etag

    unchanged = manager.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    notice_id = first.json()["results"][0]["id"]
    manager.post(f"{URL}{notice_id}/read/")
    changed = manager.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag and changed.json()["unread"] == 0


def test_the_outbox_is_for_staff_only(placed, staff, manager):
    rows = staff.get("/api/v1/outbox/", {"channel": "sms"}).json()["results"]
    assert [(r["event_type"], r["status"], r["attempts"]) for r in rows] == [
        ("order.placed", "pending", 0)
    ]
    assert_error(manager.get("/api/v1/outbox/"), 403, "permission_denied")
    assert_error(
        staff.get("/api/v1/outbox/", {"status": "lost"}), 400, "validation_error", "status"
    )


def test_only_a_failed_notice_can_be_replayed(placed, staff):
    pending = Notice.objects.filter(channel="sms").get()
    error = assert_error(
        staff.post(f"/api/v1/outbox/{pending.pk}/replay/"), 409, "conflict", "status"
    )
    assert error["current_status"] == "pending"
    pending.refresh_from_db()
    assert pending.status == "pending" and pending.attempts == 0
