"""Packing from lots the manager chooses, in headless Chromium on a 360×740 zh-CN phone (as
tests/mobile/test_browser.py): the chooser fits the phone, a refusal shows beside its line,
and the corrected choice packs."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import FulfilmentStatus as S
from orders.models import PickAllocation
from orders.services.transitions import fulfilment_confirm
from products.models import Lot
from tests.mobile import test_browser
from tests.mobile.conftest import placed_part

pytestmark = pytest.mark.django_db(transaction=True)

phone_browser = test_browser.phone_browser  # the same phone: 360×740, touch, zh-CN


def test_pack_from_chosen_lots_on_the_phone(
    live_server, phone_browser, manager_user, purchaser_user, store, cooperative, client
):
    page = phone_browser
    part = placed_part(
        purchaser=purchaser_user, store=store, cooperative=cooperative, quantities=("40",)
    )
    fulfilment_confirm(fulfilment=part, user=manager_user)
    line = part.lines.get()
    older, newer = Lot.objects.filter(listing=line.listing).order_by("harvest_date")
    client.force_login(manager_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/m/f/{part.pk}/")
    page.get_by_text("从其他批次打包").click()
    # First in first out to start with: 30 from the older lot, 10 from the newer.
    expect(page.locator(f"#id_pick-{line.pk}-{older.pk}")).to_have_value("30")
    expect(page.locator(f"#id_pick-{line.pk}-{newer.pk}")).to_have_value("10")
    test_browser.assert_fits_a_phone(page)

    # The newer lot only, but too little: refused beside the line, nothing saved.
    page.locator(f"#id_pick-{line.pk}-{older.pk}").fill("")
    page.locator(f"#id_pick-{line.pk}-{newer.pk}").fill("25")
    page.get_by_role("button", name="按这些批次打包").click()
    expect(page.locator(f"#picks-line-{line.pk} .errorlist")).to_contain_text("拣货数量合计应为 40")
    part.refresh_from_db()
    assert part.status == S.CONFIRMED

    page.locator(f"#id_pick-{line.pk}-{older.pk}").fill("15")
    page.get_by_role("button", name="按这些批次打包").click()
    expect(page.get_by_text("已按您选择的批次打包。")).to_be_visible()
    expect(page.locator("#pick-list")).to_contain_text(newer.code)
    part.refresh_from_db()
    assert part.status == S.PACKED
    picks = {p.lot_id: p.quantity for p in PickAllocation.objects.filter(line=line)}
    assert picks == {older.pk: Decimal("15"), newer.pk: Decimal("25")}
