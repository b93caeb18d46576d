"""What the offline queue needs from the server (the browser side is in
test_browser_offline.py): the service worker at /m/sw.js, the outbox and its words on every
screen, every action form marked for the queue, and a refusal the sending script can read
even when the part has moved on and its form is gone."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from orders.models import FulfilmentStatus as S
from orders.models import OrderEvent
from orders.services.transitions import fulfilment_confirm, fulfilment_pack, order_cancel
from tests.mobile.conftest import placed_part
from tests.mobile.test_views import key_of

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_for_the_whole_page(db):
    response = Client().get("/m/sw.js")  # the browser fetches it with or without a session
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/m/"
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    shell = json.loads(re.search(r"const SHELL_URLS = (\[.*\]);", script)[1])
    assert shell == [
        "/static/mobile/mobile.css",
        "/static/mobile/htmx.min.js",
        "/static/mobile/offline.js",
    ]
    assert re.search(r'const SHELL = "m-shell-[0-9a-f]{12}";', script)
    for url in shell:  # the shell it keeps is there to keep
        assert finders.find(url.removeprefix("/static/"))


def outbox_words(response) -> dict:
    page = response.content.decode()
    assert '<div id="outbox" ' in page and "/static/mobile/offline.js" in page
    found = re.search(r'<script id="outbox-strings" type="application/json">(.*?)</script>', page)
    return json.loads(found[1])


def test_every_screen_has_the_outbox_in_the_pages_language(
    phone, manager_user, purchaser_user, store, cooperative
):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    for url in ("/m/", f"/m/f/{part.pk}/"):
        words = outbox_words(phone.get(url))
        assert words["waiting"] == "{count} 项待发送"
        assert words["refused"] == "发送后被拒绝：{what} · {action}"
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(manager_user)
    assert outbox_words(english.get("/m/"))["waiting"] == "{count} waiting to be sent"


def test_signed_out_there_is_no_outbox(db):
    assert 'id="outbox"' not in Client().get("/m/login/").content.decode()


def offline_forms(page: str) -> list[str]:
    """The action (button value) of each form marked for the offline queue."""
    forms = re.findall(r"<form [^>]*data-offline[^>]*>(.*?)</form>", page, re.S)
    return [re.search(r'name="action" value="(\w+)"', form)[1] for form in forms]


def test_every_action_form_joins_the_offline_queue(
    phone, manager_user, purchaser_user, store, cooperative
):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    page = phone.get(f"/m/f/{part.pk}/").content.decode()
    assert offline_forms(page) == ["confirm", "confirm_short", "reject"]
    fulfilment_confirm(fulfilment=part, user=manager_user)
    page = phone.get(f"/m/f/{part.pk}/").content.decode()
    assert offline_forms(page) == ["pack", "pack_picks"]
    fulfilment_pack(fulfilment=part, user=manager_user)
    page = phone.get(f"/m/f/{part.pk}/").content.decode()
    assert offline_forms(page) == ["ship"]
    # Sign-out is not an action to keep for later.
    assert not re.search(r'<form [^>]*action="/m/logout/"[^>]*data-offline', page)


def test_a_refusal_after_the_part_moved_on_is_shown_at_the_top(
    phone, manager_user, purchaser_user, store, cooperative
):
    """A confirm kept offline, sent after the buyer cancelled: its form is no longer on the
    page, so the service's reason is shown at the top, where the sending script reads it."""
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    order_cancel(order=part.order, user=purchaser_user, reason="门店暂停营业")
    response = phone.post(f"/m/f/{part.pk}/", {"action": "confirm", "idempotency_key": key})
    assert response.status_code == 400
    page = response.content.decode()
    refusal = re.search(r'<ul class="errorlist" id="refusal" role="alert">(.*?)</ul>', page, re.S)
    assert "“已取消”" in refusal[1] and "不能变为“已确认”" in refusal[1]
    part.refresh_from_db()
    assert part.status == S.CANCELLED
    assert not OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).exists()


def test_a_refusal_beside_its_form_is_not_repeated_at_the_top(
    phone, purchaser_user, store, cooperative
):
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    response = phone.post(
        f"/m/f/{part.pk}/", {"action": "reject", "idempotency_key": key, "reason": " "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="refusal"' not in page and "请说明拒绝订单的原因" in page
