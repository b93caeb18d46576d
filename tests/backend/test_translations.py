"""The Chinese catalogue is complete: every message of the code is translated, none is fuzzy,
no translation is left over, placeholders are named and match, and the committed .mo is the
.po compiled (backend/catalogue.py; `manage.py messages` brings it up to date). A message
added without its translation fails `make test` here, from its first commit."""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from backend import catalogue, formatting
from products.models import Unit, quantity_text

ROOT = Path(settings.BASE_DIR)


def test_the_committed_catalogue_is_complete_and_compiled():
    assert catalogue.problems() == []


@pytest.fixture
def copy_of_the_project(tmp_path):
    """The apps, manage.py and the catalogue, where a test may break them."""
    for app in sorted(path.parent for path in ROOT.glob("*/apps.py")):
        shutil.copytree(app, tmp_path / app.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "manage.py", tmp_path / "manage.py")
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    return tmp_path


def test_the_check_finds_a_new_message_an_unnamed_placeholder_and_a_stale_mo(
    copy_of_the_project,
):
    root = copy_of_the_project
    (root / "orders" / "new_messages.py").write_text(
        "from django.utils.translation import gettext as _\n\n"
        "NEW = _('A message nobody translated yet.')\n"
        "UNNAMED = _('Only %s left.')\n"
    )
    po, _mo = catalogue.catalogue_paths(root)
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "已结束。"' in text
    po.write_text(text.replace('msgstr "已结束。"', 'msgstr "已经结束。"'), encoding="utf-8")

    found = catalogue.problems(root)

    assert "not translated: 'A message nobody translated yet.'" in found
    assert "unnamed placeholder (use %(name)s): 'Only %s left.'" in found
    assert any("is stale" in problem for problem in found), found


def test_the_check_finds_a_translation_the_code_no_longer_needs(copy_of_the_project):
    root = copy_of_the_project
    placement = root / "orders" / "services" / "placement.py"
    source = placement.read_text()
    assert '_("The date is in the past.")' in source
    placement.write_text(source.replace("The date is in the past.", "The date has passed."))

    found = catalogue.problems(root)

    assert "not translated: 'The date has passed.'" in found
    assert "no longer in the code: 'The date is in the past.'" in found


@pytest.mark.parametrize(
    ("language", "quantity", "unit", "expected"),
    [
        ("zh-hans", "50.000", Unit.KG, "50 公斤"),
        ("zh-hans", "12.500", Unit.JIN, "12.5 斤"),
        ("zh-hans", "2", Unit.CASE, "2 箱"),
        ("zh-hans", "1200", Unit.BOTTLE, "1,200 瓶"),
        ("en", "50.000", Unit.KG, "50 kg"),
        ("en", "1.000", Unit.JAR, "1 jar"),
        ("en", "3", Unit.CASE, "3 cases"),
    ],
)
def test_quantities_drop_trailing_zeros_and_name_the_unit_in_the_language(
    language, quantity, unit, expected
):
    with translation.override(language):
        assert str(quantity_text(Decimal(quantity), unit)) == expected


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_money_reads_as_yuan_with_two_places_in_every_language(language):
    with translation.override(language):
        assert str(formatting.money(Decimal("1234.5"))) == "¥1,234.50"
        assert str(formatting.money(Decimal("-0.05"))) == "-¥0.05"


def test_dates_follow_the_language():
    import datetime

    day = datetime.date(2026, 3, 2)
    with translation.override("zh-hans"):
        assert str(formatting.date(day)) == "2026年3月2日"
    with translation.override("en"):
        assert str(formatting.date(day)) == "March 2, 2026"


def test_a_lazy_message_reads_in_the_language_active_when_it_is_read():
    from django.utils.translation import gettext_lazy as _

    text = formatting.message(
        _("The minimum order is %(minimum)s."),
        {"minimum": quantity_text(Decimal("50"), Unit.KG)},
    )
    with translation.override("zh-hans"):
        assert str(text) == "起订量为 50 公斤。"
    with translation.override("en"):
        assert str(text) == "The minimum order is 50 kg."


@pytest.mark.django_db
def test_refusals_before_the_locale_middleware_read_in_the_requests_language(purchaser):
    """414 and 431 are answered before LocaleMiddleware runs; they ask the header too."""
    limit = settings.MAX_URL_BYTES
    too_long = {"search": "x" * limit}
    chinese = purchaser.get("/api/v1/listings/", too_long, HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = purchaser.get("/api/v1/listings/", too_long, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.json()["error"]["message"] == f"URL 超过 {limit} 字节。"
    assert english.json()["error"]["message"] == f"The URL is longer than {limit} bytes."

    header = {"HTTP_X_TRACE": "a" * (settings.MAX_HEADER_BYTES + 1)}
    chinese = purchaser.get("/api/v1/listings/", HTTP_ACCEPT_LANGUAGE="zh-CN", **header)
    assert chinese.json()["error"]["fields"] == {"X-Trace": ["过长。"]}
