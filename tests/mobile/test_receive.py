"""Receiving a lot on the phone page through Django's test client: lot_receive once per form,
every refusal beside its field in Chinese with nothing written, another cooperative's
listing or household refused as the API refuses it, and the households found in pinyin."""

import datetime
import gzip
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from products.models import Listing, Lot, LotContribution
from tests.factories import HouseholdFactory, ListingFactory, LotFactory

pytestmark = pytest.mark.django_db

NEW = "/m/lots/new/"
HITS = "/m/lots/new/hits/"
ROW = "/m/lots/new/row/"


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))


@pytest.fixture
def households(cooperative):
    return {
        "zhang": HouseholdFactory(cooperative=cooperative, name="张三", village="石屯村"),
        "li": HouseholdFactory(cooperative=cooperative, name="李四", village="纳夜村"),
        "wang": HouseholdFactory(cooperative=cooperative, name="王五", village="石屯村"),
    }


@pytest.fixture
def stranger(other_cooperative):
    """Another cooperative's household, whose name also answers "zhang" and "zs"."""
    return HouseholdFactory(cooperative=other_cooperative, name="张三丰", village="石屯村")


def key_of(response) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())[1]


def body(phone, listing, rows, /, **fields) -> dict:
    """A save of the form: three households' shares of 100 unless told otherwise."""
    return {
        "idempotency_key": key_of(phone.get(NEW)),
        "action": "save",
        "listing": str(listing.pk),
        "code": "FM-2026-031",
        "harvest_date": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "quantity": "100",
        "notes": "",
        "q": "",
        "household": [str(household.pk) for household, _share in rows],
        "share": [share for _household, share in rows],
        **fields,
    }


def three(households, shares=("50", "30", "20")):
    return list(zip(households.values(), shares, strict=True))


def written(listing) -> tuple:
    listing.refresh_from_db()
    return Lot.objects.count(), LotContribution.objects.count(), listing.stock_on_hand


def beside(page: str, field_id: str, message: str) -> bool:
    """``message`` is shown between the field's label and its input."""
    label = page.index(f'<label for="{field_id}"')
    field = page.index(f'id="{field_id}"', label)
    return message in page[label:field]


def in_block(page: str, block_id: str, message: str) -> bool:
    start = page.index(f'id="{block_id}"')
    return message in page[start : page.index("</", page.index("errorlist", start))]


# --- receiving ----------------------------------------------------------------------------------
def test_receive_a_lot_from_three_households(phone, listing, households):
    response = phone.post(NEW, body(phone, listing, three(households), notes="槐花蜜"))
    lot = Lot.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/m/lots/{lot.pk}/"
    assert (lot.code, lot.quantity, lot.notes) == ("FM-2026-031", Decimal("100"), "槐花蜜")
    shares = {c.household.name: c.quantity for c in lot.contributions.select_related("household")}
    assert shares == {"张三": Decimal("50"), "李四": Decimal("30"), "王五": Decimal("20")}
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("200")
    page = phone.get(response["Location"]).content.decode()
    assert "批次 FM-2026-031 已收货。" in page  # the success message, once
    assert "张三" in page and "50 公斤" in page and "纳夜村" in page
    assert 'href="/m/lots/new/"' in page  # receive another


def test_a_resent_form_receives_once(phone, listing, households):
    sent = body(phone, listing, three(households))
    first = phone.post(NEW, sent)
    again = phone.post(NEW, sent, follow=True)  # a second tap, or the connection dropped
    assert first.status_code == 302 and again.redirect_chain[0][0] == first["Location"]
    assert "已经处理过了" in again.content.decode()
    assert written(listing) == (1, 3, Decimal("200"))


def test_the_same_key_with_other_households_is_not_a_replay(phone, listing, households):
    """Every row counts in the form's fingerprint, not only the last one sent."""
    sent = body(phone, listing, three(households))
    assert phone.post(NEW, sent).status_code == 302
    changed = {**sent, "share": ["40", "40", "20"]}
    response = phone.post(NEW, changed)
    assert response.status_code == 400 and "已用于另一个请求" in response.content.decode()
    assert written(listing) == (1, 3, Decimal("200"))


# Worked out when the test runs, not when it is collected: a run that crosses midnight in
# Shanghai would otherwise send today's date as tomorrow's.
TOMORROW = "tomorrow"


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"shares": ("50", "30", "10")}, "contributions-errors", "比批次数量少 10 公斤"),
        ({"shares": ("50", "30", "30")}, "contributions-errors", "比批次数量多 10 公斤"),
        ({"harvest_date": TOMORROW}, "id_harvest_date", "采收日期不能晚于今天"),
        ({"harvest_date": "2026-02-30"}, "id_harvest_date", "输入一个有效的日期"),
        ({"twice": True}, "contributions-errors", "有农户重复出现"),
        ({"nobody": True}, "contributions-errors", "请填写供应该批次的农户"),
        ({"quantity": "0"}, "id_quantity", "请输入大于零的数量"),
        ({"quantity": "-5"}, "id_quantity", "请输入大于零的数量"),
        ({"quantity": "1000000000"}, "id_quantity", "确保该值小于或等于100000000"),
        ({"quantity": "十"}, "id_quantity", "输入一个数字"),
        ({"shares": ("50", "0", "50")}, "row", "请输入大于零的数量"),
        ({"code": ""}, "id_code", "此字段为必填项"),
        ({"listing": ""}, "id_listing", "此字段为必填项"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    phone, listing, households, change, where, message
):
    rows = three(households, change.pop("shares", ("50", "30", "20")))
    if change.pop("twice", False):
        rows = [rows[0], (rows[0][0], "30"), rows[2]]
    if change.pop("nobody", False):
        rows = []
    if change.get("harvest_date") == TOMORROW:
        change["harvest_date"] = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    before = written(listing)
    sent = body(phone, listing, rows, **change)
    response = phone.post(NEW, sent)
    page = response.content.decode()
    assert response.status_code == 400, page
    if where == "row":
        li = page[page.index(f'id="row-{households["li"].pk}"') :]
        assert message in li[: li.index("</li>")]
    elif where.startswith("id_"):
        assert beside(page, where, message), page
    else:
        assert in_block(page, where, message), page
    assert written(listing) == before
    # Shown again with what was typed.
    assert f'value="{sent["code"]}"' in page if sent["code"] else True
    for household, share in rows:
        assert f'name="household" value="{household.pk}"' in page
        assert f'value="{share}"' in page


def test_a_lot_code_already_received_is_refused_beside_the_code(phone, listing, households):
    LotFactory(listing=listing, code="FM-2026-031")
    before = written(listing)
    response = phone.post(NEW, body(phone, listing, three(households)))
    assert response.status_code == 400
    assert beside(response.content.decode(), "id_code", "已登记")
    assert written(listing) == before


# --- another cooperative's ---------------------------------------------------------------------
def test_another_cooperatives_listing_is_refused_as_the_api_refuses_it(
    phone, listing, households, other_cooperative
):
    live = ListingFactory(cooperative=other_cooperative)
    draft = ListingFactory(cooperative=other_cooperative, status=Listing.Status.DRAFT)
    before = written(live), written(draft), written(listing)
    # One buyers see: the API's 403, beside the listing.
    response = phone.post(NEW, body(phone, listing, three(households), listing=str(live.pk)))
    assert response.status_code == 403
    assert beside(response.content.decode(), "id_listing", "你只能代表自己管理的合作社操作")
    # A draft nobody else sees: as if it did not exist (the API's 400).
    response = phone.post(NEW, body(phone, listing, three(households), listing=str(draft.pk)))
    assert response.status_code == 400
    assert beside(response.content.decode(), "id_listing", "选择一个有效的选项")
    assert (written(live), written(draft), written(listing)) == before
    # Neither is offered.
    options = re.findall(r'<option value="(\d+)"', phone.get(NEW).content.decode())
    assert options == [str(listing.pk)]


def test_another_cooperatives_household_is_refused_and_not_named(
    phone, listing, households, stranger
):
    rows = [(households["zhang"], "50"), (stranger, "50")]
    before = written(listing)
    response = phone.post(NEW, body(phone, listing, rows))
    page = response.content.decode()
    assert response.status_code == 400
    assert in_block(page, "contributions-errors", f"农户 {stranger.pk} 不是")
    assert "张三丰" not in page
    assert written(listing) == before


def test_another_cooperatives_lot_is_not_found(phone, other_cooperative):
    lot = LotFactory(listing=ListingFactory(cooperative=other_cooperative))
    assert phone.get(f"/m/lots/{lot.pk}/").status_code == 404


# --- finding households ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("zhang", ["张三"]),
        ("zs", ["张三"]),
        ("ZhangSan", ["张三"]),
        ("张", ["张三"]),
        ("li", ["李四"]),
        ("nayecun", ["李四"]),
        ("nyc", ["李四"]),
        ("纳夜", ["李四"]),
        ("shitun", ["王五", "张三"]),  # in pinyin order, by the village's pinyin
        ("shitun wang", ["王五"]),  # every word somewhere
        ("zhao", []),
    ],
)
def test_households_are_found_in_chinese_or_pinyin_never_another_cooperatives(
    phone, households, stranger, text, found
):
    response = phone.get(HITS, {"q": text}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    hit = r'<li id="hit-\d+" class="inline"><span class="grow">(\S+) '
    names = re.findall(hit, response.content.decode())
    assert names == found
    assert "张三丰" not in response.content.decode()


def test_the_search_leaves_out_households_already_on_the_lot(phone, households):
    picked = households["zhang"].pk
    response = phone.get(HITS, {"q": "shitun", "household": [picked]})
    assert f'id="hit-{picked}"' not in response.content.decode()
    assert f'id="hit-{households["wang"].pk}"' in response.content.decode()


def test_without_javascript_search_add_and_remove_keep_what_was_typed(phone, listing, households):
    # The search by a GET parameter.
    page = phone.get(NEW, {"q": "zs"}).content.decode()
    assert f'id="hit-{households["zhang"].pk}"' in page
    # In the form: nothing saved, everything typed comes back.
    typed = {**body(phone, listing, []), "action": "search", "q": "li"}
    response = phone.post(NEW, typed)
    page = response.content.decode()
    assert response.status_code == 200 and 'value="FM-2026-031"' in page
    assert f'id="hit-{households["li"].pk}"' in page
    assert "errorlist" not in page  # a step is not a save: nothing is judged yet
    added = phone.post(NEW, {**typed, "action": "", "add": str(households["li"].pk)})
    page = added.content.decode()
    assert f'name="household" value="{households["li"].pk}"' in page
    assert 'value="FM-2026-031"' in page
    again = phone.post(
        NEW,
        {**typed, "action": "", "add": str(households["li"].pk)}
        | {"household": [str(households["li"].pk)], "share": ["60"]},
    )  # a second tap on the hit
    assert again.content.decode().count(f'name="household" value="{households["li"].pk}"') == 1
    both = {
        **typed,
        "action": "",
        "household": [str(households["li"].pk), str(households["wang"].pk)],
        "share": ["60", "40"],
        "remove": str(households["li"].pk),
    }
    page = phone.post(NEW, both).content.decode()
    assert f'name="household" value="{households["li"].pk}"' not in page
    assert f'name="household" value="{households["wang"].pk}"' in page and 'value="40"' in page
    assert Lot.objects.count() == 0


def test_htmx_adds_a_row_in_place(phone, households, stranger):
    household = households["li"]
    response = phone.get(ROW, {"add": household.pk}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert f'name="household" value="{household.pk}"' in page and "李四" in page
    assert f'id="hit-{household.pk}" hx-swap-oob="delete"' in page
    assert phone.get(ROW, {"add": stranger.pk}).status_code == 404


def test_the_screen_is_small_and_linked_from_today(phone, listing, households):
    page = phone.get(NEW, {"q": "shitun"}).content
    assert len(gzip.compress(page)) <= 20 * 1024, len(gzip.compress(page))
    today = phone.get("/m/").content.decode()
    assert 'href="/m/lots/new/"' in today and "收货" in today


def test_the_screen_in_english_when_the_browser_prefers_it(phone, listing):
    page = phone.get(NEW, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "<h1>Receive a lot</h1>" in page and "Find a household by name or village" in page
