"""/api/v1/categories/, /certifications/ and /products/: every role reads the shared catalog,
only platform staff write it; product search in Chinese, English and pinyin."""

import pytest

from products import services
from products.models import Category, Product, Unit
from tests.conftest import assert_error
from tests.factories import CategoryFactory, CertificationFactory, ProductFactory

READERS = ["buyer", "partner", "manager", "staff"]
NON_STAFF = ["buyer", "partner", "manager"]


@pytest.fixture
def catalog(db):
    category = CategoryFactory()
    return {
        "category": category,
        "certification": CertificationFactory(code="organic"),
        "product": ProductFactory(category=category),
    }


def urls(catalog) -> dict[str, str]:
    return {
        "/api/v1/categories/": f"/api/v1/categories/{catalog['category'].pk}/",
        "/api/v1/certifications/": "/api/v1/certifications/organic/",
        "/api/v1/products/": f"/api/v1/products/{catalog['product'].pk}/",
    }


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name_zh"] for row in response.json()["results"]}


# --- Reading and writing by role --------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_reads_the_catalog(request, role, catalog):
    client = request.getfixturevalue(role)
    for list_url, detail_url in urls(catalog).items():
        assert client.get(list_url).status_code == 200, list_url
        assert client.get(detail_url).status_code == 200, detail_url


def test_anonymous_gets_401_on_the_catalog(anon, catalog):
    for list_url, detail_url in urls(catalog).items():
        assert_error(anon.get(list_url), 401)
        assert_error(anon.get(detail_url), 401)


@pytest.mark.parametrize("role", NON_STAFF)
def test_only_staff_create_categories_products_and_certifications(request, role, catalog):
    client = request.getfixturevalue(role)
    before = (Category.objects.count(), Product.objects.count())
    category = {"slug": "tea", "name_zh": "茶叶", "name_en": "Tea"}
    product = {"category": catalog["category"].pk, "name_zh": "绿茶", "unit": "kg"}
    certification = {"code": "gi", "name_zh": "地理标志", "name_en": "GI"}
    assert_error(client.post("/api/v1/categories/", category, format="json"), 403)
    assert_error(client.post("/api/v1/products/", product, format="json"), 403)
    assert_error(client.post("/api/v1/certifications/", certification, format="json"), 403)
    assert (Category.objects.count(), Product.objects.count()) == before


@pytest.mark.parametrize("role", NON_STAFF)
def test_only_staff_patch_categories_and_products(request, role, catalog):
    client = request.getfixturevalue(role)
    category, product = catalog["category"], catalog["product"]
    response = client.patch(f"/api/v1/categories/{category.pk}/", {"name_zh": "改"}, format="json")
    assert_error(response, 403)
    response = client.patch(f"/api/v1/products/{product.pk}/", {"name_zh": "改"}, format="json")
    assert_error(response, 403)
    category.refresh_from_db()
    product.refresh_from_db()
    assert category.name_zh != "改" and product.name_zh != "改"


def test_staff_creates_and_patches_categories(staff):
    parent = CategoryFactory()
    response = staff.post(
        "/api/v1/categories/",
        {"slug": "honey", "name_zh": "蜂蜜", "name_en": "Honey", "parent": parent.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    category = Category.objects.get(pk=response.json()["id"])
    assert category.parent == parent
    response = staff.patch(
        f"/api/v1/categories/{category.pk}/", {"name_en": "Honeys"}, format="json"
    )
    assert response.status_code == 200, response.content
    category.refresh_from_db()
    assert category.name_en == "Honeys"


def test_staff_creates_and_patches_products(staff, catalog):
    response = staff.post(
        "/api/v1/products/",
        {"category": catalog["category"].pk, "name_zh": "通草", "name_en": "Tongcao", "unit": "kg"},
        format="json",
    )
    assert response.status_code == 201, response.content
    product = Product.objects.get(pk=response.json()["id"])
    response = staff.patch(f"/api/v1/products/{product.pk}/", {"unit": "jin"}, format="json")
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.unit == Unit.JIN


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name_zh": "x" * 51}, "name_zh"),
        ({"unit": "ton"}, "unit"),
        ({"category": 99999999}, "category"),
        ({"category": "abc"}, "category"),
        ({"name_zh": ""}, "name_zh"),
    ],
)
def test_invalid_product_is_400_naming_the_field(staff, catalog, data, field):
    payload = {"category": catalog["category"].pk, "name_zh": "绿茶", "unit": "kg", **data}
    before = Product.objects.count()
    response = staff.post("/api/v1/products/", payload, format="json")
    assert_error(response, 400, "validation_error", field)
    assert Product.objects.count() == before


def test_duplicate_product_name_is_refused(staff, catalog):
    payload = {"category": catalog["category"].pk, "name_zh": catalog["product"].name_zh}
    response = staff.post("/api/v1/products/", {**payload, "unit": "kg"}, format="json")
    assert_error(response, 400, "validation_error", "name_zh")
    assert Product.objects.filter(name_zh=catalog["product"].name_zh).count() == 1


# --- Product search and pinyin ----------------------------------------------------------------


@pytest.fixture
def honey(db):
    category = CategoryFactory()
    services.product_create(category=category, name_zh="通草", name_en="Tongcao", unit="kg")
    return services.product_create(category=category, name_zh="蜂蜜", name_en="Honey", unit="kg")


@pytest.mark.parametrize("term", ["蜂蜜", "honey", "Honey", "fengmi", "fm"])
def test_product_search_in_chinese_english_pinyin_and_initials(buyer, honey, term):
    assert names(buyer.get("/api/v1/products/", {"search": term})) == {"蜂蜜"}


def test_product_search_without_match_returns_nothing(buyer, honey):
    assert names(buyer.get("/api/v1/products/", {"search": "茶叶"})) == set()


def test_pinyin_is_set_when_a_product_is_created(staff, catalog):
    response = staff.post(
        "/api/v1/products/",
        {"category": catalog["category"].pk, "name_zh": "蜂蜜", "unit": "kg"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["pinyin"] == "fengmi fm"
    assert Product.objects.get(name_zh="蜂蜜").pinyin == "fengmi fm"


def test_pinyin_cannot_be_written_by_the_client(staff, catalog):
    response = staff.post(
        "/api/v1/products/",
        {"category": catalog["category"].pk, "name_zh": "蜂蜜", "unit": "kg", "pinyin": "x"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Product.objects.get(name_zh="蜂蜜").pinyin == "fengmi fm"


def test_pinyin_follows_a_change_of_chinese_name(staff, buyer, honey):
    response = staff.patch(f"/api/v1/products/{honey.pk}/", {"name_zh": "通草粉"}, format="json")
    assert response.status_code == 200, response.content
    honey.refresh_from_db()
    assert honey.pinyin == "tongcaofen tcf"
    assert names(buyer.get("/api/v1/products/", {"search": "tcf"})) == {"通草粉"}
    assert names(buyer.get("/api/v1/products/", {"search": "fengmi"})) == set()


def test_pinyin_kept_when_chinese_name_is_unchanged(staff, honey):
    response = staff.patch(
        f"/api/v1/products/{honey.pk}/", {"name_en": "Wild honey"}, format="json"
    )
    assert response.status_code == 200, response.content
    honey.refresh_from_db()
    assert honey.pinyin == "fengmi fm"


def test_product_filter_by_category_includes_children(buyer):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    in_child = ProductFactory(category=child)
    ProductFactory()
    response = buyer.get("/api/v1/products/", {"category": parent.pk})
    assert names(response) == {in_child.name_zh}
    assert_error(buyer.get("/api/v1/products/", {"category": "abc"}), 400, field="category")


# --- The category tree ------------------------------------------------------------------------


def test_category_cannot_be_its_own_parent(staff):
    category = CategoryFactory()
    response = staff.patch(
        f"/api/v1/categories/{category.pk}/", {"parent": category.pk}, format="json"
    )
    assert_error(response, 400, "validation_error", "parent")
    category.refresh_from_db()
    assert category.parent is None


def test_category_cannot_become_its_own_ancestor(staff):
    top = CategoryFactory()
    middle = CategoryFactory(parent=top)
    bottom = CategoryFactory(parent=middle)
    response = staff.patch(f"/api/v1/categories/{top.pk}/", {"parent": bottom.pk}, format="json")
    assert_error(response, 400, "validation_error", "parent")
    top.refresh_from_db()
    assert top.parent is None


def test_category_can_move_under_a_sibling(staff):
    top = CategoryFactory()
    left = CategoryFactory(parent=top)
    right = CategoryFactory(parent=top)
    response = staff.patch(f"/api/v1/categories/{right.pk}/", {"parent": left.pk}, format="json")
    assert response.status_code == 200, response.content
    right.refresh_from_db()
    assert right.parent == left


def test_categories_filter_by_parent(buyer):
    top = CategoryFactory()
    child = CategoryFactory(parent=top)
    CategoryFactory()
    response = buyer.get("/api/v1/categories/", {"parent": top.pk})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [child.pk]


def test_certification_detail_by_code(buyer, catalog):
    response = buyer.get("/api/v1/certifications/organic/")
    assert response.status_code == 200
    assert response.json()["code"] == "organic"
    assert_error(buyer.get("/api/v1/certifications/nope/"), 404)
