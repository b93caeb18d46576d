"""Every error code the API can emit is in the README's list, and a wrong password answers
one of them (it answered ``invalid``, which the list did not have)."""

import re
from importlib import import_module
from pathlib import Path

import pytest
from rest_framework import exceptions

import backend.errors
from backend.errors import DomainError
from tests.conftest import assert_error
from tests.factories import PASSWORD

README = Path(__file__).resolve().parents[2] / "README.md"
PROJECT_APPS = {"accounts", "suppliers", "buyers", "products", "orders", "logistics", "backend"}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def emitted_codes() -> set[str]:
    """The codes of every domain error, of every DRF exception the handler passes through
    (its ValidationError becomes validation_error), and of the bodies errors.py writes."""
    import_module("backend.urls")  # every view, so every service and its errors
    codes = {cls.code for cls in [DomainError, *_subclasses(DomainError)]}
    for cls in _subclasses(exceptions.APIException):
        module = cls.__module__.split(".")[0]
        if module in PROJECT_APPS or module == "rest_framework":
            codes.add(cls.default_code)
    codes.discard(exceptions.ValidationError.default_code)
    source = Path(backend.errors.__file__).read_text()
    codes |= set(re.findall(r'error_body\(\s*"(\w+)"', source))
    return codes


def documented_codes() -> set[str]:
    text = README.read_text()
    bullet = re.search(r"^- \*\*Errors\*\*.*?(?=^- \*\*)", text, re.S | re.M).group(0)
    return set(re.findall(r"`(\w+)`", bullet))


def test_codes_are_collected():
    codes = emitted_codes()
    assert {"validation_error", "insufficient_stock", "retry", "parse_error"} <= codes
    assert "invalid" not in codes


def test_every_code_the_api_can_emit_is_in_the_readme():
    assert emitted_codes() - documented_codes() == set()


@pytest.mark.django_db
def test_a_wrong_password_answers_a_documented_code(anon, buyer_user):
    body = {"phone": buyer_user.phone, "password": PASSWORD + "x"}
    response = anon.post("/api/v1/auth/token/", body, format="json")
    assert_error(response, 400, "validation_error", field="password")
