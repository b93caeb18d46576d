"""The phone page through Django's test client: sign-in, Today, a fulfilment's actions, and
that each action goes through the services once, under the API's access rules."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import FulfilmentStatus as S
from orders.models import OrderEvent, PickAllocation
from tests.factories import PASSWORD, UserFactory
from tests.mobile.conftest import placed_part

pytestmark = pytest.mark.django_db


def key_of(response) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())[1]


# --- sign-in ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["13800000002", "+86 138 0000 0002", "138-0000-0002"])
def test_a_manager_signs_in_with_the_phone_in_any_spelling(manager_user, spelling):
    client = Client()
    response = client.post("/m/login/", {"username": spelling, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/m/"
    # Not "stay signed in": the session ends with the browser.
    assert client.session.get_expire_at_browser_close()


def test_stay_signed_in_keeps_the_session(manager_user):
    client = Client()
    client.post("/m/login/", {"username": "13800000002", "password": PASSWORD, "remember": "on"})
    assert not client.session.get_expire_at_browser_close()


def test_the_page_is_in_chinese_unless_the_browser_prefers_english(manager_user):
    response = Client().get("/m/login/")
    assert response["Content-Language"] == "zh-hans" and "登录" in response.content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").get("/m/login/")
    assert english["Content-Language"] == "en" and "Sign in" in english.content.decode()


def test_a_wrong_password_is_refused_in_chinese(manager_user):
    response = Client().post("/m/login/", {"username": "13800000002", "password": "wrong"})
    assert response.status_code == 200
    assert "手机号和密码不匹配" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_buyers_and_staff_are_told_the_page_is_for_managers(purchaser_user, staff_user):
    for user in (purchaser_user, staff_user):
        response = Client().post("/m/login/", {"username": user.phone, "password": PASSWORD})
        assert response.status_code == 200
        assert "此页面供合作社负责人使用" in response.content.decode()


def test_sign_in_is_throttled_like_the_api(manager_user, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    allowed = int(rates["login_phone"].split("/")[0])
    client = Client()
    for _attempt in range(allowed):
        client.post("/m/login/", {"username": "13800000002", "password": "wrong"})
    response = client.post("/m/login/", {"username": "138 0000 0002", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录尝试次数过多" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get("/m/")
    assert response.status_code == 302 and response["Location"] == "/m/login/?next=/m/"


def test_sign_out(phone):
    assert phone.post("/m/logout/").status_code == 302
    assert phone.get("/m/").status_code == 302


# --- Today ------------------------------------------------------------------------------------
def test_today_groups_the_work_oldest_first(
    phone, manager_user, purchaser_user, store, cooperative, other_cooperative
):
    first = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    second = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    to_pack = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    from orders.services.transitions import fulfilment_confirm

    fulfilment_confirm(fulfilment=to_pack, user=manager_user)
    placed_part(purchaser=purchaser_user, store=store, cooperative=other_cooperative)
    response = phone.get("/m/")
    assert response.status_code == 200
    groups = {group["name"]: group["parts"] for group in response.context["groups"]}
    assert groups["confirm"] == [first, second]
    assert groups["pack"] == [to_pack]
    assert groups["ship"] == [] and groups["delayed"] == []
    page = response.content.decode()
    assert "待确认" in page and "待打包" in page and "待发货" in page and "已延误" in page


def test_a_part_past_its_delivery_date_is_delayed(phone, purchaser_user, store, cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    order = part.order
    order.requested_delivery_date = timezone.localdate() - datetime.timedelta(days=1)
    order.save(update_fields=["requested_delivery_date"])
    groups = {g["name"]: g["parts"] for g in phone.get("/m/").context["groups"]}
    assert groups["delayed"] == [part] and groups["confirm"] == [part]


def test_every_screen_shows_the_unread_notices(
    phone, manager_user, purchaser_user, store, cooperative
):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    from notices import selectors

    unread = selectors.unread_count(user=manager_user)
    assert unread > 0  # the new order's notice to the cooperative
    for url in ("/m/", f"/m/f/{part.pk}/"):
        response = phone.get(url)
        assert response.context["unread"] == unread
        assert f'id="unread">{unread}<' in response.content.decode()


# --- a fulfilment -----------------------------------------------------------------------------
def test_confirm_in_full(phone, purchaser_user, store, cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    page = phone.get(f"/m/f/{part.pk}/")
    response = phone.post(
        f"/m/f/{part.pk}/", {"action": "confirm", "idempotency_key": key_of(page)}
    )
    assert response.status_code == 302
    part.refresh_from_db()
    assert part.status == S.CONFIRMED
    assert [line.confirmed_quantity for line in part.lines.all()] == [Decimal("10")]


def test_confirm_short_and_a_resubmit_applies_once(phone, purchaser_user, store, cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    line = part.lines.get()
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    body = {"action": "confirm_short", "idempotency_key": key, f"line-{line.pk}": "6"}
    assert phone.post(f"/m/f/{part.pk}/", body).status_code == 302
    again = phone.post(f"/m/f/{part.pk}/", body, follow=True)  # a second tap, or a retry
    assert "已经处理过了" in again.content.decode()
    line.refresh_from_db()
    assert line.confirmed_quantity == Decimal("6")
    assert OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).count() == 1


def test_a_short_quantity_above_the_ordered_one_is_refused_beside_it(
    phone, purchaser_user, store, cooperative
):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    line = part.lines.get()
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    response = phone.post(
        f"/m/f/{part.pk}/",
        {"action": "confirm_short", "idempotency_key": key, f"line-{line.pk}": "11"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    # Inside the short-confirmation form, above its quantities, in Chinese.
    form = page[page.index('id="confirm-short"') :]
    assert "确认数量应在 0 到 10" in form.split("</form>")[0], form[:800]
    part.refresh_from_db()
    assert part.status == S.PLACED
    # The refused key stays free: the corrected form goes through.
    body = {"action": "confirm_short", "idempotency_key": key, f"line-{line.pk}": "9"}
    assert phone.post(f"/m/f/{part.pk}/", body).status_code == 302


def test_a_quantity_that_is_not_a_number_is_refused(phone, purchaser_user, store, cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    line = part.lines.get()
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    response = phone.post(
        f"/m/f/{part.pk}/",
        {"action": "confirm_short", "idempotency_key": key, f"line-{line.pk}": "十"},
    )
    assert response.status_code == 400 and "输入一个数字" in response.content.decode()


def test_reject_needs_a_reason(phone, purchaser_user, store, cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    response = phone.post(
        f"/m/f/{part.pk}/", {"action": "reject", "idempotency_key": key, "reason": " "}
    )
    assert response.status_code == 400
    assert "请说明拒绝订单的原因" in response.content.decode()
    response = phone.post(
        f"/m/f/{part.pk}/", {"action": "reject", "idempotency_key": key, "reason": "冰雹毁了收成"}
    )
    part.refresh_from_db()
    assert response.status_code == 302 and part.status == S.REJECTED


def test_pack_from_the_pick_list_then_ship(phone, manager_user, purchaser_user, store, cooperative):
    from orders.services.transitions import fulfilment_confirm

    # 40 of it, so both lots are drawn: the older harvest first.
    part = placed_part(
        purchaser=purchaser_user, store=store, cooperative=cooperative, quantities=("40",)
    )
    line = part.lines.get()
    fulfilment_confirm(fulfilment=part, user=manager_user)
    page = phone.get(f"/m/f/{part.pk}/")
    text = page.content.decode()
    assert f"L{line.listing_id}-A" in text and "农户0A" in text
    response = phone.post(f"/m/f/{part.pk}/", {"action": "pack", "idempotency_key": key_of(page)})
    assert response.status_code == 302
    picks = PickAllocation.objects.filter(line=line).order_by("pk")
    assert [(p.lot.code, p.quantity) for p in picks] == [
        (f"L{line.listing_id}-A", Decimal("30")),
        (f"L{line.listing_id}-B", Decimal("10")),
    ]
    page = phone.get(f"/m/f/{part.pk}/")
    body = {
        "action": "ship",
        "idempotency_key": key_of(page),
        "mode": "carrier",
        "carrier_name": "",
        "package_count": "4",
        "weight_kg": "40.5",
        "window_start": page.context["shipment_form"].initial["window_start"],
        "window_end": page.context["shipment_form"].initial["window_end"],
    }
    response = phone.post(f"/m/f/{part.pk}/", body)
    assert response.status_code == 400 and "请填写承运商" in response.content.decode()
    part.refresh_from_db()
    assert part.status == S.PACKED and not hasattr(part, "shipment")
    response = phone.post(f"/m/f/{part.pk}/", {**body, "carrier_name": "贵州长和长远物流"})
    assert response.status_code == 302
    part.refresh_from_db()
    assert part.status == S.SHIPPED and part.shipment.package_count == 4
    note = phone.get(f"/m/f/{part.pk}/note/")
    assert note.status_code == 200 and "送货单" in note.content.decode()


def test_another_cooperatives_part_is_not_found(phone, purchaser_user, store, other_cooperative):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=other_cooperative)
    for url in (f"/m/f/{part.pk}/", f"/m/f/{part.pk}/note/", "/m/f/999999/"):
        assert phone.get(url).status_code == 404
    response = phone.post(f"/m/f/{part.pk}/", {"action": "confirm", "idempotency_key": "k1"})
    assert response.status_code == 404
    part.refresh_from_db()
    assert part.status == S.PLACED


def test_a_user_who_manages_nothing_is_turned_away(db):
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/m/")
    assert response.status_code == 403 and "此页面供合作社负责人使用" in response.content.decode()
