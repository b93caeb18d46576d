"""The Notices screen: the manager's own inbox, newest first, unread marked; a notice opened
and marked read through notices' service (once per form); the header's count follows."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notices import selectors
from notices.models import Notice
from tests.mobile.conftest import placed_part

pytestmark = pytest.mark.django_db


def keys_of(response) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())


def unread_badge(response) -> int:
    return int(re.search(r'id="unread">(\d+)<', response.content.decode())[1])


@pytest.fixture
def two_orders(purchaser_user, store, cooperative):
    """Two new orders: a notice each in the manager's inbox, unread."""
    return [
        placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
        for _ in range(2)
    ]


def inbox_of(user) -> list[Notice]:
    return list(selectors.inbox(user=user))


def test_the_inbox_newest_first_unread_marked_in_chinese(phone, manager_user, two_orders):
    notices = inbox_of(manager_user)
    assert len(notices) == 2 and notices[0].pk > notices[1].pk
    response = phone.get("/m/notices/")
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    assert [row["notice"] for row in response.context["rows"]] == notices
    page = response.content.decode()
    assert page.index(f'id="notice-{notices[0].pk}"') < page.index(f'id="notice-{notices[1].pk}"')
    assert notices[0].subject in page and "标为已读" in page and "全部标为已读" in page
    assert page.count('class="card unread"') == 2
    assert unread_badge(response) == 2
    # The header's count is a link to this screen, on every screen.
    assert 'class="unread" href="/m/notices/"' in phone.get("/m/").content.decode()


def test_opening_a_notice_links_to_its_part(phone, manager_user, two_orders):
    notice = inbox_of(manager_user)[0]
    response = phone.get(f"/m/notices/{notice.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert notice.subject in page and notice.body.splitlines()[0] in page
    assert f'href="/m/f/{two_orders[1].pk}/"' in page
    notice.refresh_from_db()
    assert notice.read_at is None  # opening reads nothing into it: marking read is a form


def test_marking_read_lowers_the_count_once(phone, manager_user, two_orders):
    notice = inbox_of(manager_user)[0]
    page = phone.get(f"/m/notices/{notice.pk}/")
    body = {"idempotency_key": keys_of(page)[0]}
    response = phone.post(f"/m/notices/{notice.pk}/", body, follow=True)
    assert response.status_code == 200 and "已标为已读" in response.content.decode()
    assert unread_badge(response) == 1
    notice.refresh_from_db()
    first_read = notice.read_at
    assert first_read is not None
    # Sent again: a replay, the first time kept.
    again = phone.post(f"/m/notices/{notice.pk}/", body, follow=True)
    assert "已经处理过了" in again.content.decode()
    notice.refresh_from_db()
    assert notice.read_at == first_read
    assert selectors.unread_count(user=manager_user) == 1


def test_mark_all_read(phone, manager_user, two_orders):
    page = phone.get("/m/notices/")
    key = re.search(
        r'action="/m/notices/read-all/">.*?name="idempotency_key" value="([0-9a-f]+)"',
        page.content.decode(),
        re.S,
    )[1]
    response = phone.post("/m/notices/read-all/", {"idempotency_key": key}, follow=True)
    assert unread_badge(response) == 0
    assert selectors.unread_count(user=manager_user) == 0
    assert "全部标为已读" not in response.content.decode()


def test_a_form_without_its_key_marks_nothing(phone, manager_user, two_orders):
    notice = inbox_of(manager_user)[0]
    response = phone.post(f"/m/notices/{notice.pk}/", {})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert selectors.unread_count(user=manager_user) == 2


def test_another_persons_notice_is_not_found(
    phone, manager_user, other_manager_user, purchaser_user, store, other_cooperative
):
    placed_part(purchaser=purchaser_user, store=store, cooperative=other_cooperative)
    theirs = inbox_of(other_manager_user)[0]
    assert phone.get(f"/m/notices/{theirs.pk}/").status_code == 404
    response = phone.post(f"/m/notices/{theirs.pk}/", {"idempotency_key": "k1"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs.subject not in phone.get("/m/notices/").content.decode()


def test_buyers_and_signed_out_visitors_are_kept_out(purchaser_user, two_orders):
    response = Client().get("/m/notices/")
    assert response.status_code == 302 and response["Location"] == "/m/login/?next=/m/notices/"
    buyer = Client()
    buyer.force_login(purchaser_user)
    assert buyer.get("/m/notices/").status_code == 403
    assert buyer.post("/m/notices/read-all/", {"idempotency_key": "k"}).status_code == 403


def test_the_query_count_does_not_grow_with_the_notices(phone, purchaser_user, store, cooperative):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert phone.get("/m/notices/").status_code == 200
        return len(captured)

    placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    one = queries()
    for _ in range(4):
        placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    assert queries() == one
