"""The phone page in real headless Chromium (Debian's, driven by Playwright's Python package
through ``executable_path``: no browser download) against a live server on PostgreSQL, as a
manager's phone sees it: 360×740, zh-CN. Chromium is installed by scripts/ensure_services.sh
(``make test``).

With MOBILE_SCREENSHOTS=1 the test also writes docs/images/mobile-today.png (the README's
picture of the Today screen); CI leaves the committed one alone."""

import contextlib
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from orders.models import FulfilmentStatus as S
from orders.services.transitions import fulfilment_confirm, fulfilment_pack
from tests.factories import PASSWORD
from tests.mobile.conftest import placed_part

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "mobile-today.png"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is missing: run scripts/ensure_services.sh (make test installs it)"
    return path


@contextlib.contextmanager
def open_phone(*, width: int = 360, height: int = 740, **options):
    """A page in a phone's Chromium: touch, zh-CN, ``width``×``height``; ``options`` go to
    Playwright's new_context."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN",
            is_mobile=True,
            has_touch=True,
            **{"device_scale_factor": 2, **options},
        )
        yield context.new_page()
        context.close()
        browser.close()
        # The test's ORM reads ran beside Playwright's loop, on a connection of their own:
        # closed here, so the test database can be dropped.
        connections.close_all()


@pytest.fixture
def phone_browser(monkeypatch):
    """A phone: 360×740, touch, zh-CN. Playwright's sync API runs an event loop in this
    thread, so Django's guard against ORM calls from async code is lifted for the test's own
    reads (the server answers in its own thread)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with open_phone() as page:
        yield page


@pytest.fixture
def day_of_work(manager_user, purchaser_user, store, cooperative, other_cooperative):
    """Two parts to confirm, one to pack, one to ship, one of them late; and another
    cooperative's part. The store is named as Nanming's are, for the README's picture."""
    store.name, store.organisation.name_zh = "惠民生鲜 新华路店", "贵阳惠民生鲜超市有限公司"
    store.save(update_fields=["name"])
    store.organisation.save(update_fields=["name_zh"])
    parts = {
        name: placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
        for name in ("short", "full", "to_pack", "to_ship")
    }
    late = parts["full"].order
    late.requested_delivery_date = timezone.localdate() - timezone.timedelta(days=1)
    late.save(update_fields=["requested_delivery_date"])
    fulfilment_confirm(fulfilment=parts["to_pack"], user=manager_user)
    fulfilment_confirm(fulfilment=parts["to_ship"], user=manager_user)
    fulfilment_pack(fulfilment=parts["to_ship"], user=manager_user)
    parts["other"] = placed_part(
        purchaser=purchaser_user, store=store, cooperative=other_cooperative
    )
    return parts


def count(page, group: str) -> str:
    return page.locator(f"#group-{group} h2 .badge").inner_text()


def assert_fits_a_phone(page):
    """Nothing runs off the 360 px screen, and every control is a thumb's size (44 px)."""
    layout = page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          small: [...document.querySelectorAll('a, button, input, select, summary')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden'
                    && el.type !== 'checkbox' && !el.closest('header')
                    && el.getBoundingClientRect().height < 44)
            .map(el => el.outerHTML.slice(0, 80)),
        })"""
    )
    assert layout["scrollWidth"] <= 360, layout
    assert layout["small"] == [], layout


def test_a_managers_day_on_the_phone(live_server, phone_browser, day_of_work, manager_user):
    page = phone_browser
    parts = day_of_work

    # Sign in with the phone as people type it.
    page.goto(f"{live_server.url}/m/")
    expect(page).to_have_url(re.compile(r"/m/login/"))
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_label("手机号").fill("13800000002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # Today: each group with its count, the oldest first.
    expect(page.get_by_role("heading", name="今日")).to_be_visible()
    assert [count(page, g) for g in ("confirm", "pack", "ship", "delayed")] == ["2", "1", "1", "1"]
    links = page.locator("#group-confirm a")
    assert links.nth(0).get_attribute("href") == f"/m/f/{parts['short'].pk}/"
    assert_fits_a_phone(page)
    if os.environ.get("MOBILE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

    # Confirm the oldest short: 6 of the 10 ordered.
    links.nth(0).click()
    expect(
        page.get_by_role("heading", name=re.compile(f"分单 {parts['short'].pk}"))
    ).to_be_visible()
    assert_fits_a_phone(page)
    page.get_by_text("部分确认（少于订购量）").click()
    line = parts["short"].lines.get()
    # More than was ordered: refused beside the quantities, in Chinese, nothing saved.
    page.locator(f"#id_line-{line.pk}").fill("11")
    page.get_by_role("button", name="按这些数量确认").click()
    expect(page.locator("#confirm-short .errorlist")).to_contain_text("确认数量应在 0 到 10")
    parts["short"].refresh_from_db()
    assert parts["short"].status == S.PLACED
    page.locator(f"#id_line-{line.pk}").fill("6")
    page.get_by_role("button", name="按这些数量确认").click()
    expect(page.get_by_text("已按您填写的数量确认。")).to_be_visible()
    line.refresh_from_db()
    assert line.confirmed_quantity == Decimal("6")

    # The other in full.
    page.get_by_role("link", name="返回今日").click()
    page.locator("#group-confirm a").first.click()
    expect(page.get_by_role("heading", name=re.compile(f"分单 {parts['full'].pk}"))).to_be_visible()
    page.get_by_role("button", name="全部确认").click()
    expect(page.get_by_text("已全部确认。")).to_be_visible()
    parts["full"].refresh_from_db()
    assert parts["full"].status == S.CONFIRMED

    # Pack the short one from its pick list (oldest harvest first, households named), ship it.
    page.goto(f"{live_server.url}/m/f/{parts['short'].pk}/")
    pick_list = page.locator("#pick-list")
    expect(pick_list).to_contain_text(f"L{line.listing_id}-A")
    expect(pick_list).to_contain_text("农户0A")
    page.get_by_role("button", name="按此拣货单打包").click()
    expect(page.get_by_text("已按拣货单打包。")).to_be_visible()
    page.get_by_label("承运商").fill("贵州长和长远物流")
    page.get_by_label("件数").fill("2")
    page.get_by_label("重量（公斤）").fill("6.2")
    assert_fits_a_phone(page)
    page.get_by_role("button", name="立即发货").click()
    expect(page.get_by_text("已发货。")).to_be_visible()
    parts["short"].refresh_from_db()
    assert parts["short"].status == S.SHIPPED
    assert parts["short"].shipment.carrier_name == "贵州长和长远物流"

    # Another cooperative's part, by changing the URL: not found, and nothing of it shown.
    response = page.goto(f"{live_server.url}/m/f/{parts['other'].pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    assert f"分单 {parts['other'].pk}" not in page.content()
