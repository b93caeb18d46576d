import pytest
from django.utils import translation

from orders.models import FulfilmentStatus, Order
from suppliers.models import Cooperative


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "合作社"), ("en", "Cooperatives")],
)
def test_admin_index_speaks_chinese_and_english(client, staff_user, language, expected):
    client.force_login(staff_user)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_model_names_are_translated_to_chinese():
    with translation.override("zh-hans"):
        assert str(Cooperative._meta.verbose_name) == "合作社"
        assert str(Cooperative._meta.get_field("credit_code").verbose_name) == "统一社会信用代码"
        assert str(Order._meta.verbose_name) == "订单"
        assert str(FulfilmentStatus.PENDING_APPROVAL.label) == "待采购方审批"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/suppliers/cooperative/",
        "/admin/suppliers/household/",
        "/admin/products/listing/",
        "/admin/products/lot/",
        "/admin/products/product/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/partnerapikey/",
        "/admin/buyers/buyerorganisation/",
        "/admin/buyers/buyerorganisation/add/",
        "/admin/orders/order/",
        "/admin/orders/standingorder/",
        "/admin/products/negotiatedprice/",
    ],
)
def test_admin_pages_render_for_staff(client, staff_user, path):
    client.force_login(staff_user)
    assert client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


def test_admin_is_closed_to_non_staff(client, buyer_user):
    client.force_login(buyer_user)
    response = client.get("/admin/")
    assert response.status_code == 302  # to the admin login page


def test_stock_and_order_records_are_view_only_in_the_admin(client, staff_user):
    """Listings, lots, negotiated prices and orders change through the API's services, which
    move stock and write events; the admin shows them but cannot save them."""
    from tests.factories import ListingFactory

    listing = ListingFactory()
    client.force_login(staff_user)
    url = f"/admin/products/listing/{listing.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"stock_on_hand": "1", "stock_reserved": "0", "status": "active"})
    assert response.status_code == 403
    listing.refresh_from_db()
    assert listing.stock_on_hand == 100
    assert client.get("/admin/products/listing/add/").status_code == 403
