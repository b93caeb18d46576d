"""/api/v1/listings/: who sees and writes what, the creation rules, filters, ordering,
pagination, search and sparse fields."""

from decimal import Decimal

import pytest

from products import services
from products.models import Grade, Listing, PriceTier, Unit
from tests.conftest import assert_error
from tests.factories import (
    CategoryFactory,
    CertificationFactory,
    CooperativeFactory,
    ListingFactory,
    ProductFactory,
)

URL = "/api/v1/listings/"
READERS = ["buyer", "partner"]


def detail(listing) -> str:
    return f"{URL}{listing.pk}/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def counts() -> tuple[int, int]:
    return Listing.objects.count(), PriceTier.objects.count()


def new_listing(cooperative, product, **overrides) -> dict:
    data = {
        "cooperative": cooperative.pk,
        "product": product.pk,
        "grade": Grade.FIRST,
        "packaging": "24 × 500 g jars per case",
        "min_order_quantity": "10",
        "order_increment": "5",
        "tiers": [
            {"min_quantity": "10", "unit_price": "68.00"},
            {"min_quantity": "100", "unit_price": "60.00"},
        ],
        "status": "draft",
    }
    data.update(overrides)
    return data


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def by_status(cooperative):
    """One listing of `cooperative` in each status, each for its own product."""
    return {
        status: ListingFactory(cooperative=cooperative, status=status)
        for status in Listing.Status.values
    }


# --- Permissions ------------------------------------------------------------------------------


def test_anonymous_gets_401_on_list_detail_and_create(anon, cooperative, product):
    listing = ListingFactory(cooperative=cooperative)
    assert_error(anon.get(URL), 401)
    assert_error(anon.get(detail(listing)), 401)
    before = counts()
    assert_error(anon.post(URL, new_listing(cooperative, product), format="json"), 401)
    assert counts() == before


@pytest.mark.parametrize("role", READERS)
def test_buyers_and_partners_list_only_live_listings(request, role, by_status):
    client = request.getfixturevalue(role)
    live = {by_status["active"].pk, by_status["sold_out"].pk}
    assert ids(client.get(URL)) == live


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("status", ["draft", "paused"])
def test_buyers_and_partners_get_404_on_hidden_listing(request, role, status, by_status):
    client = request.getfixturevalue(role)
    assert_error(client.get(detail(by_status[status])), 404, "not_found")


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("status", ["active", "sold_out"])
def test_buyers_and_partners_read_live_listing_detail(request, role, status, by_status):
    client = request.getfixturevalue(role)
    response = client.get(detail(by_status[status]))
    assert response.status_code == 200
    assert response.json()["status"] == status


def test_buyers_do_not_see_listings_of_inactive_cooperative(buyer):
    listing = ListingFactory(cooperative=CooperativeFactory(is_active=False))
    assert_error(buyer.get(detail(listing)), 404)


def test_manager_sees_own_drafts_but_not_other_cooperatives_drafts(
    manager, cooperative, other_cooperative
):
    own_draft = ListingFactory(cooperative=cooperative, status="draft")
    own_paused = ListingFactory(cooperative=cooperative, status="paused")
    other_draft = ListingFactory(cooperative=other_cooperative, status="draft")
    other_active = ListingFactory(cooperative=other_cooperative, status="active")
    assert ids(manager.get(URL)) == {own_draft.pk, own_paused.pk, other_active.pk}
    assert manager.get(detail(own_draft)).status_code == 200
    assert_error(manager.get(detail(other_draft)), 404)


def test_manager_creates_listing_for_own_cooperative(manager, cooperative, product):
    response = manager.post(URL, new_listing(cooperative, product), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    listing = Listing.objects.get(pk=body["id"])
    assert listing.cooperative == cooperative
    assert listing.status == "draft"
    assert [(t.min_quantity, t.unit_price) for t in listing.tiers.all()] == [
        (Decimal("10"), Decimal("68.00")),
        (Decimal("100"), Decimal("60.00")),
    ]
    assert body["base_price"] == "68.00"
    assert body["unit"] == product.unit  # defaults to the product's unit


def test_manager_cannot_create_listing_for_another_cooperative(manager, other_cooperative, product):
    before = counts()
    response = manager.post(URL, new_listing(other_cooperative, product), format="json")
    assert_error(response, 403, "permission_denied", "cooperative")
    assert counts() == before


def test_manager_cannot_patch_another_cooperatives_listing(manager, other_cooperative):
    listing = ListingFactory(cooperative=other_cooperative, packaging="old")
    response = manager.patch(detail(listing), {"packaging": "new"}, format="json")
    assert_error(response, 403, "permission_denied")
    listing.refresh_from_db()
    assert listing.packaging == "old"


def test_manager_patches_own_listing(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    response = manager.patch(detail(listing), {"packaging": "12 × 1 kg jars"}, format="json")
    assert response.status_code == 200, response.content
    listing.refresh_from_db()
    assert listing.packaging == "12 × 1 kg jars"


@pytest.mark.parametrize("role", READERS)
def test_buyers_and_partners_cannot_create_or_patch(request, role, cooperative, product):
    client = request.getfixturevalue(role)
    listing = ListingFactory(cooperative=cooperative, packaging="old")
    before = counts()
    assert_error(client.post(URL, new_listing(cooperative, product), format="json"), 403)
    assert_error(client.patch(detail(listing), {"packaging": "new"}, format="json"), 403)
    assert counts() == before
    listing.refresh_from_db()
    assert listing.packaging == "old"


def test_staff_sees_creates_and_patches_everything(staff, cooperative, other_cooperative, product):
    drafts = {
        ListingFactory(cooperative=c, status="draft").pk for c in (cooperative, other_cooperative)
    }
    assert ids(staff.get(URL)) == drafts
    response = staff.post(URL, new_listing(other_cooperative, product), format="json")
    assert response.status_code == 201, response.content
    response = staff.patch(
        detail(Listing.objects.get(pk=response.json()["id"])), {"lead_time_days": 3}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["lead_time_days"] == 3


# --- Creation rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tiers",
    [
        pytest.param(None, id="missing"),
        pytest.param([], id="empty"),
        pytest.param(
            [
                {"min_quantity": "10", "unit_price": "68"},
                {"min_quantity": "10", "unit_price": "60"},
            ],
            id="duplicate-threshold",
        ),
        pytest.param([{"min_quantity": "20", "unit_price": "68"}], id="first-above-moq"),
        pytest.param(
            [
                {"min_quantity": "10", "unit_price": "60"},
                {"min_quantity": "50", "unit_price": "61"},
            ],
            id="price-rises",
        ),
        pytest.param(
            [
                {"min_quantity": "50", "unit_price": "61"},
                {"min_quantity": "10", "unit_price": "60"},
            ],
            id="price-rises-unsorted",
        ),
    ],
)
def test_bad_tier_tables_are_400_on_tiers(manager, cooperative, product, tiers):
    data = new_listing(cooperative, product, tiers=tiers)
    if tiers is None:
        del data["tiers"]
    before = counts()
    assert_error(manager.post(URL, data, format="json"), 400, "validation_error", "tiers")
    assert counts() == before


def test_tiers_given_out_of_order_are_stored_in_order(manager, cooperative, product):
    tiers = [
        {"min_quantity": "100", "unit_price": "60.00"},
        {"min_quantity": "5", "unit_price": "70.00"},
    ]
    response = manager.post(URL, new_listing(cooperative, product, tiers=tiers), format="json")
    assert response.status_code == 201, response.content
    assert [t["min_quantity"] for t in response.json()["tiers"]] == ["5.000", "100.000"]
    assert response.json()["base_price"] == "70.00"


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("min_order_quantity", "-1", "min_order_quantity"),
        ("min_order_quantity", "0", "min_order_quantity"),
        ("min_order_quantity", "1e12", "min_order_quantity"),
        ("min_order_quantity", "NaN", "min_order_quantity"),
        ("min_order_quantity", "Infinity", "min_order_quantity"),
        ("min_order_quantity", "1e400", "min_order_quantity"),
        ("min_order_quantity", "10.0001", "min_order_quantity"),
        ("min_order_quantity", {"value": 10}, "min_order_quantity"),
        ("min_order_quantity", [10], "min_order_quantity"),
        ("min_order_quantity", "ten", "min_order_quantity"),
        ("order_increment", "-5", "order_increment"),
        ("order_increment", "0", "order_increment"),
        ("lead_time_days", -1, "lead_time_days"),
        ("lead_time_days", 100000, "lead_time_days"),
        ("lead_time_days", "soon", "lead_time_days"),
        ("grade", "platinum", "grade"),
        ("unit", "ton", "unit"),
        ("packaging", "x" * 101, "packaging"),
        ("product", "abc", "product"),
        ("product", 99999999, "product"),
        ("cooperative", 99999999999999999999999, "cooperative"),
        ("certifications", ["no-such-cert"], "certifications"),
        ("certifications", ["gi\x00"], "certifications"),  # was a 500: NUL reached PostgreSQL
        ("tiers", "cheap", "tiers"),
        ("tiers", [{"min_quantity": "10", "unit_price": "-1"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": "0"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": "1e12"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": "NaN"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": "1e400"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": "68.001"}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "10", "unit_price": [1]}], "tiers.0.unit_price"),
        ("tiers", [{"min_quantity": "0", "unit_price": "68"}], "tiers.0.min_quantity"),
        (
            "tiers",
            [{"min_quantity": "1", "unit_price": "70"}, {"min_quantity": "-5", "unit_price": "6"}],
            "tiers.1.min_quantity",
        ),
        ("tiers", [{"unit_price": "68"}], "tiers.0.min_quantity"),
        ("tiers", ["cheap"], "tiers.0"),
    ],
)
def test_invalid_values_are_400_naming_the_field(
    manager, cooperative, product, field, value, error_field
):
    data = new_listing(cooperative, product)
    data[field] = value
    before = counts()
    response = manager.post(URL, data, format="json")
    assert_error(response, 400, "validation_error", error_field)
    assert counts() == before


def test_malformed_json_is_400_and_writes_nothing(manager):
    before = counts()
    response = manager.post(
        URL, data='{"min_order_quantity": NaN, "tiers": [', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")
    assert counts() == before


def test_sold_out_cannot_be_set_by_hand(manager, cooperative, product):
    before = counts()
    response = manager.post(
        URL, new_listing(cooperative, product, status="sold_out"), format="json"
    )
    assert_error(response, 400, "validation_error", "status")
    assert counts() == before
    listing = ListingFactory(cooperative=cooperative, status="active")
    response = manager.patch(detail(listing), {"status": "sold_out"}, format="json")
    assert_error(response, 400, "validation_error", "status")
    listing.refresh_from_db()
    assert listing.status == "active"


def test_activating_a_listing_without_stock_makes_it_sold_out(manager, cooperative, product):
    response = manager.post(URL, new_listing(cooperative, product, status="active"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "sold_out"
    draft = ListingFactory(cooperative=cooperative, status="draft", stock_on_hand=0)
    response = manager.patch(detail(draft), {"status": "active"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sold_out"


def test_activating_a_listing_with_stock_makes_it_active(manager, cooperative):
    draft = ListingFactory(cooperative=cooperative, status="draft", stock_on_hand=5)
    response = manager.patch(detail(draft), {"status": "active"}, format="json")
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.status == "active"


@pytest.mark.parametrize("existing_status", ["active", "sold_out"])
def test_second_live_listing_for_same_product_and_grade_is_409(
    manager, cooperative, product, existing_status
):
    ListingFactory(cooperative=cooperative, product=product, grade="first", status=existing_status)
    before = counts()
    response = manager.post(URL, new_listing(cooperative, product, status="active"), format="json")
    assert_error(response, 409, "conflict")
    assert counts() == before


def test_publishing_a_draft_next_to_a_live_listing_is_409(manager, cooperative, product):
    ListingFactory(cooperative=cooperative, product=product, grade="first", status="active")
    draft = ListingFactory(cooperative=cooperative, product=product, grade="first", status="draft")
    response = manager.patch(detail(draft), {"status": "active"}, format="json")
    assert_error(response, 409, "conflict")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_live_listings_may_coexist_across_grades_and_cooperatives(
    manager, cooperative, other_cooperative, product
):
    ListingFactory(cooperative=cooperative, product=product, grade="first", status="active")
    ListingFactory(cooperative=other_cooperative, product=product, grade="special")
    draft = new_listing(cooperative, product, grade="special", status="active")
    assert manager.post(URL, draft, format="json").status_code == 201


def test_drafts_for_same_product_and_grade_are_allowed(manager, cooperative, product):
    ListingFactory(cooperative=cooperative, product=product, grade="first", status="active")
    response = manager.post(URL, new_listing(cooperative, product), format="json")
    assert response.status_code == 201, response.content


def test_patch_tiers_replace_the_tier_table(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    old_ids = set(listing.tiers.values_list("id", flat=True))
    tiers = [
        {"min_quantity": "1", "unit_price": "80.00"},
        {"min_quantity": "50", "unit_price": "70.00"},
        {"min_quantity": "500", "unit_price": "55.50"},
    ]
    response = manager.patch(detail(listing), {"tiers": tiers}, format="json")
    assert response.status_code == 200, response.content
    rows = list(listing.tiers.values_list("id", "min_quantity", "unit_price"))
    assert [(q, p) for _id, q, p in rows] == [
        (Decimal("1"), Decimal("80.00")),
        (Decimal("50"), Decimal("70.00")),
        (Decimal("500"), Decimal("55.50")),
    ]
    assert not old_ids & {row[0] for row in rows}
    assert response.json()["base_price"] == "80.00"


def test_patch_with_bad_tiers_keeps_the_old_table(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)
    before = list(listing.tiers.values_list("id", "min_quantity", "unit_price"))
    bad = [{"min_quantity": "10", "unit_price": "60"}, {"min_quantity": "20", "unit_price": "65"}]
    response = manager.patch(detail(listing), {"tiers": bad}, format="json")
    assert_error(response, 400, "validation_error", "tiers")
    assert list(listing.tiers.values_list("id", "min_quantity", "unit_price")) == before


def test_patch_raising_moq_above_first_tier_is_400(manager, cooperative):
    listing = ListingFactory(cooperative=cooperative)  # first tier from 10
    response = manager.patch(detail(listing), {"min_order_quantity": "5"}, format="json")
    assert_error(response, 400, "validation_error", "tiers")
    listing.refresh_from_db()
    assert listing.min_order_quantity == Decimal("10")


def test_patch_cannot_change_cooperative_or_product(manager, cooperative, other_cooperative):
    listing = ListingFactory(cooperative=cooperative)
    original_product = listing.product
    other_product = ProductFactory()
    response = manager.patch(
        detail(listing),
        {"cooperative": other_cooperative.pk, "product": other_product.pk},
        format="json",
    )
    assert response.status_code == 200, response.content  # read-only after creation: ignored
    listing.refresh_from_db()
    assert listing.cooperative == cooperative
    assert listing.product == original_product


def test_stock_fields_are_read_only(manager, cooperative, product):
    data = new_listing(cooperative, product, stock_on_hand="1000", stock_reserved="5")
    response = manager.post(URL, data, format="json")
    assert response.status_code == 201, response.content
    listing = Listing.objects.get(pk=response.json()["id"])
    assert (listing.stock_on_hand, listing.stock_reserved) == (0, 0)

    live = ListingFactory(cooperative=cooperative, stock_on_hand=100)
    response = manager.patch(detail(live), {"stock_on_hand": "999999"}, format="json")
    assert response.status_code == 200, response.content
    live.refresh_from_db()
    assert live.stock_on_hand == Decimal("100")


def test_listing_shows_available_quantity(buyer, cooperative):
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=100, stock_reserved=30)
    body = buyer.get(detail(listing)).json()
    assert Decimal(body["available_quantity"]) == Decimal("70")


# --- Filters ----------------------------------------------------------------------------------


def test_filter_by_category_includes_child_categories(buyer):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    grandchild = CategoryFactory(parent=child)
    in_parent = ListingFactory(product__category=parent)
    in_child = ListingFactory(product__category=child)
    in_grandchild = ListingFactory(product__category=grandchild)
    ListingFactory()  # another category
    assert ids(buyer.get(URL, {"category": parent.pk})) == {
        in_parent.pk,
        in_child.pk,
        in_grandchild.pk,
    }
    assert ids(buyer.get(URL, {"category": child.pk})) == {in_child.pk, in_grandchild.pk}


def test_filter_by_cooperative_product_and_grade(buyer, cooperative, other_cooperative):
    mine = ListingFactory(cooperative=cooperative, grade="first")
    special = ListingFactory(cooperative=cooperative, product=mine.product, grade="special")
    theirs = ListingFactory(cooperative=other_cooperative, product=mine.product)
    assert ids(buyer.get(URL, {"cooperative": cooperative.pk})) == {mine.pk, special.pk}
    assert ids(buyer.get(URL, {"product": mine.product.pk})) == {mine.pk, special.pk, theirs.pk}
    assert ids(buyer.get(URL, {"grade": "special"})) == {special.pk}


def test_filter_by_price_range_uses_base_price(buyer):
    cheap = ListingFactory(tiers=[("10", "20.00")])
    middle = ListingFactory(tiers=[("10", "50.00"), ("100", "10.00")])  # base 50
    dear = ListingFactory(tiers=[("10", "90.00")])
    assert ids(buyer.get(URL, {"price_min": "30"})) == {middle.pk, dear.pk}
    assert ids(buyer.get(URL, {"price_max": "50"})) == {cheap.pk, middle.pk}
    assert ids(buyer.get(URL, {"price_min": "30", "price_max": "60"})) == {middle.pk}


def test_filter_in_stock(buyer):
    stocked = ListingFactory(stock_on_hand=10)
    empty = ListingFactory(stock_on_hand=0, status="sold_out")
    all_reserved = ListingFactory(stock_on_hand=10, stock_reserved=10, status="sold_out")
    assert ids(buyer.get(URL, {"in_stock": "true"})) == {stocked.pk}
    assert ids(buyer.get(URL, {"in_stock": "false"})) == {empty.pk, all_reserved.pk}


def test_filter_by_certification(buyer):
    organic = CertificationFactory(code="organic")
    gi = CertificationFactory(code="gi", name_zh="地理标志", name_en="Geographical indication")
    both = ListingFactory(certifications=[organic, gi])
    only_gi = ListingFactory(certifications=[gi])
    ListingFactory()
    assert ids(buyer.get(URL, {"certification": "organic"})) == {both.pk}
    response = buyer.get(URL, {"certification": "gi"})
    assert ids(response) == {both.pk, only_gi.pk}
    assert len(response.json()["results"]) == 2  # no duplicate rows from the join


def test_filter_by_status(manager, cooperative):
    draft = ListingFactory(cooperative=cooperative, status="draft")
    active = ListingFactory(cooperative=cooperative, status="active")
    assert ids(manager.get(URL, {"status": "draft"})) == {draft.pk}
    assert ids(manager.get(URL, {"status": "active"})) == {active.pk}


def test_buyer_filtering_by_draft_status_sees_nothing(buyer, by_status):
    assert ids(buyer.get(URL, {"status": "draft"})) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "abc"}, "category"),
        ({"category": "99999999999999999999999"}, "category"),
        ({"price_min": "-1"}, "price_min"),
        ({"price_max": "cheap"}, "price_max"),
        ({"cooperative": "99999999999999999999999"}, "cooperative"),
        ({"cooperative": "-3"}, "cooperative"),
        ({"product": "1.5"}, "product"),
        ({"grade": "platinum"}, "grade"),
        ({"status": "deleted"}, "status"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
def test_bad_filter_values_are_400_naming_the_field(buyer, params, field):
    assert_error(buyer.get(URL, params), 400, "validation_error", field)


# --- Ordering and pagination ------------------------------------------------------------------


def test_ordering_by_base_price(buyer):
    mid = ListingFactory(tiers=[("10", "50.00")])
    low = ListingFactory(tiers=[("10", "20.00")])
    high = ListingFactory(tiers=[("10", "90.00")])
    ascending = [row["id"] for row in buyer.get(URL, {"ordering": "base_price"}).json()["results"]]
    assert ascending == [low.pk, mid.pk, high.pk]
    descending = buyer.get(URL, {"ordering": "-base_price"}).json()["results"]
    assert [row["id"] for row in descending] == [high.pk, mid.pk, low.pk]


def test_cursor_pagination_next_link_walks_all_pages(buyer):
    made = {ListingFactory().pk for _ in range(5)}
    seen: list[int] = []
    response = buyer.get(URL, {"page_size": 2})
    pages = 0
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            break
        response = buyer.get(body["next"])
    assert pages == 3
    assert sorted(seen) == sorted(made) and len(seen) == len(made)
    assert seen == sorted(seen, reverse=True)  # newest first


def test_page_size_is_capped_at_100(staff, cooperative, product):
    Listing.objects.bulk_create(
        Listing(
            cooperative=cooperative,
            product=product,
            grade=Grade.FIRST,
            unit=Unit.KG,
            min_order_quantity=1,
            order_increment=1,
        )
        for _ in range(105)
    )
    body = staff.get(URL, {"page_size": 1000}).json()
    assert len(body["results"]) == 100
    assert body["next"]


# --- Search -----------------------------------------------------------------------------------


@pytest.fixture
def honey_listing(db):
    category = CategoryFactory(slug="honey", name_zh="蜂产品", name_en="Bee products")
    honey = services.product_create(category=category, name_zh="蜂蜜", name_en="Honey", unit="kg")
    tongcao = services.product_create(
        category=CategoryFactory(), name_zh="通草", name_en="Tongcao", unit="kg"
    )
    ListingFactory(product=tongcao)
    return ListingFactory(product=honey)


@pytest.mark.parametrize("term", ["蜂蜜", "蜂", "honey", "HONEY", "fengmi", "fm"])
def test_search_finds_honey_in_chinese_english_pinyin_and_initials(buyer, honey_listing, term):
    assert ids(buyer.get(URL, {"search": term})) == {honey_listing.pk}


def test_search_without_match_returns_nothing(buyer, honey_listing):
    assert ids(buyer.get(URL, {"search": "茶叶"})) == set()
    assert ids(buyer.get(URL, {"search": "zzqx"})) == set()


# --- Sparse fields ----------------------------------------------------------------------------


def test_fields_parameter_returns_only_those_keys(buyer):
    listing = ListingFactory()
    body = buyer.get(URL, {"fields": "id,base_price"}).json()
    assert [set(row) for row in body["results"]] == [{"id", "base_price"}]
    assert body["results"][0]["base_price"] == "68.00"
    one = buyer.get(detail(listing), {"fields": "id,base_price"}).json()
    assert one == {"id": listing.pk, "base_price": "68.00"}


def test_unknown_field_name_is_400(buyer):
    listing = ListingFactory()
    assert_error(buyer.get(URL, {"fields": "id,secret"}), 400, "validation_error", "fields")
    assert_error(buyer.get(detail(listing), {"fields": "nope"}), 400, "validation_error", "fields")


def test_the_unit_cannot_change_once_the_listing_exists(manager, cooperative):
    """Stock, tiers and placed orders are counted in it: 50 kg must not become 50 jin."""
    listing = ListingFactory(cooperative=cooperative, unit="kg")
    response = manager.patch(f"/api/v1/listings/{listing.pk}/", {"unit": "jin"}, format="json")
    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.unit == "kg" and response.json()["unit"] == "kg"
