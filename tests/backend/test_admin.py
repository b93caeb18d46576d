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


def test_every_model_field_and_choice_of_ours_has_a_chinese_name():
    """What the admin shows as names (models, fields, choices, help texts) reads in Chinese.
    Fields a library declares (the API key's own) are the library's to translate."""
    import re
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings

    cjk = re.compile(r"[\u4e00-\u9fff]")
    root = Path(settings.BASE_DIR)
    untranslated = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if Path(model._meta.app_config.path).parent != root:
                continue  # a library's model
            names = [("model", model._meta.verbose_name, model._meta.verbose_name_plural)]
            library_fields = {
                field.name
                for base in model.__mro__[1:]
                if getattr(getattr(base, "_meta", None), "abstract", False)
                and not (root / base.__module__.split(".")[0]).is_dir()
                for field in base._meta.fields
            }
            for field in model._meta.concrete_fields:
                if field.auto_created or field.name in library_fields:
                    continue  # the primary key; fields an abstract model of a library declares
                texts = [field.verbose_name, *(label for _value, label in field.flatchoices)]
                names.append((field.name, *texts, *([field.help_text] if field.help_text else [])))
            for name, *texts in names:
                untranslated += [
                    (model._meta.label, name, str(text))
                    for text in texts
                    if not cjk.search(str(text)) and str(text) not in {"E.164, +86…"}
                ]
    assert untranslated == []
