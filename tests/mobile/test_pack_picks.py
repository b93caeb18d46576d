"""Packing from lots the manager chooses on the phone page: the pick list offers every lot of
each line's listing with stock left (oldest harvest first, households named), starting at
the first-in-first-out proposal; the pack service judges the choice, and a refusal is shown
beside its line, in Chinese, with nothing saved."""

import re
from decimal import Decimal

import pytest

from orders.models import FulfilmentStatus as S
from orders.models import OrderEvent, PickAllocation
from orders.services.transitions import fulfilment_confirm
from products.models import Lot
from tests.mobile.conftest import placed_part
from tests.mobile.test_views import key_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_pack(manager_user, purchaser_user, store, cooperative):
    """A confirmed part of two lines, 40 and 10; each listing has lots A (older) and B, 30
    each."""
    part = placed_part(
        purchaser=purchaser_user, store=store, cooperative=cooperative, quantities=("40", "10")
    )
    fulfilment_confirm(fulfilment=part, user=manager_user)
    return part


def lots_of(line) -> tuple[Lot, Lot]:
    older, newer = Lot.objects.filter(listing=line.listing).order_by("harvest_date")
    return older, newer


def line_block(page: str, line) -> str:
    start = page.index(f'id="picks-line-{line.pk}"')
    return page[start : page.index("</fieldset>", start)]


def assert_nothing_saved(part):
    part.refresh_from_db()
    assert part.status == S.CONFIRMED
    assert not PickAllocation.objects.filter(line__fulfilment=part).exists()
    listings = [line.listing_id for line in part.lines.all()]
    assert not Lot.objects.filter(listing__in=listings, quantity_picked__gt=0).exists()
    assert not OrderEvent.objects.filter(fulfilment=part, to_status=S.PACKED).exists()


def test_the_pick_list_offers_every_lot_starting_at_first_in_first_out(phone, to_pack):
    first, second = to_pack.lines.order_by("pk")
    older, newer = lots_of(first)
    page = phone.get(f"/m/f/{to_pack.pk}/").content.decode()
    block = line_block(page, first)
    # Oldest harvest first, with the households behind each lot.
    assert block.index(older.code) < block.index(newer.code)
    assert "农户0A" in block and "农户0B" in block
    assert re.search(rf'name="pick-{first.pk}-{older.pk}" value="30"', block)
    assert re.search(rf'name="pick-{first.pk}-{newer.pk}" value="10"', block)
    second_older, second_newer = lots_of(second)
    assert re.search(rf'name="pick-{second.pk}-{second_older.pk}" value="10"', page)
    assert re.search(rf'name="pick-{second.pk}-{second_newer.pk}" step', page)  # no start


def test_pack_from_the_lots_the_manager_chose(phone, to_pack):
    first, second = to_pack.lines.order_by("pk")
    older, newer = lots_of(first)
    second_older, second_newer = lots_of(second)
    key = key_of(phone.get(f"/m/f/{to_pack.pk}/"))
    body = {
        "action": "pack_picks",
        "idempotency_key": key,
        f"pick-{first.pk}-{older.pk}": "12.5",
        f"pick-{first.pk}-{newer.pk}": "27.5",
        f"pick-{second.pk}-{second_older.pk}": "",
        f"pick-{second.pk}-{second_newer.pk}": "10",
    }
    response = phone.post(f"/m/f/{to_pack.pk}/", body, follow=True)
    assert "已按您选择的批次打包" in response.content.decode()
    to_pack.refresh_from_db()
    assert to_pack.status == S.PACKED
    picks = {(p.line_id, p.lot_id): p.quantity for p in PickAllocation.objects.all()}
    assert picks == {
        (first.pk, older.pk): Decimal("12.5"),
        (first.pk, newer.pk): Decimal("27.5"),
        (second.pk, second_newer.pk): Decimal("10"),
    }
    newer.refresh_from_db()
    assert newer.quantity_picked == Decimal("27.5")
    # Sent again (a second tap, a replay): applied once.
    again = phone.post(f"/m/f/{to_pack.pk}/", body, follow=True)
    assert "已经处理过了" in again.content.decode()
    assert PickAllocation.objects.count() == 3
    assert OrderEvent.objects.filter(fulfilment=to_pack, to_status=S.PACKED).count() == 1


def refused(phone, part, picks: dict) -> str:
    key = key_of(phone.get(f"/m/f/{part.pk}/"))
    response = phone.post(
        f"/m/f/{part.pk}/", {"action": "pack_picks", "idempotency_key": key, **picks}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<details id="pack-picks" open', page)  # the form stays open
    return page


def test_picks_that_do_not_add_up_are_refused_beside_the_line(phone, to_pack):
    first, second = to_pack.lines.order_by("pk")
    older, _newer = lots_of(first)
    second_older, _ = lots_of(second)
    page = refused(
        phone,
        to_pack,
        {f"pick-{first.pk}-{older.pk}": "30", f"pick-{second.pk}-{second_older.pk}": "10"},
    )
    assert "拣货数量合计应为 40" in line_block(page, first)
    assert "errorlist" not in line_block(page, second)
    assert_nothing_saved(to_pack)


def test_a_lot_of_another_listing_is_refused_beside_the_line(phone, to_pack):
    first, second = to_pack.lines.order_by("pk")
    other_lot, _ = lots_of(first)  # the first line's lot, named for the second line
    page = refused(
        phone,
        to_pack,
        {
            f"pick-{first.pk}-{other_lot.pk}": "30",
            f"pick-{first.pk}-{lots_of(first)[1].pk}": "10",
            f"pick-{second.pk}-{other_lot.pk}": "10",
        },
    )
    block = line_block(page, second)
    assert f"批次 {other_lot.pk} 无法供应 10" in block, block
    assert "errorlist" not in line_block(page, first)
    assert_nothing_saved(to_pack)


def test_more_than_a_lot_holds_is_refused_beside_the_line(phone, to_pack):
    first, second = to_pack.lines.order_by("pk")
    older, newer = lots_of(first)
    second_older, _ = lots_of(second)
    page = refused(
        phone,
        to_pack,
        {
            f"pick-{first.pk}-{older.pk}": "35",
            f"pick-{first.pk}-{newer.pk}": "5",
            f"pick-{second.pk}-{second_older.pk}": "10",
        },
    )
    assert f"批次 {older.pk} 无法供应 35" in line_block(page, first)
    assert_nothing_saved(to_pack)


def test_a_quantity_that_is_not_a_number_is_refused_beside_the_lot(phone, to_pack):
    first, _second = to_pack.lines.order_by("pk")
    older, _newer = lots_of(first)
    page = refused(phone, to_pack, {f"pick-{first.pk}-{older.pk}": "三十"})
    assert "输入一个数字" in line_block(page, first)
    assert_nothing_saved(to_pack)
