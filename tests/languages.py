"""The language walk: every error the test suite provokes through the API is read in the
language the request asked for.

How it works. An autouse fixture wraps ``APIClient.request``, the one method every test
request goes through (fixtures, ``client_for`` and ``APIClient()`` made inside a test alike),
and checks each answer in the one error shape (``{"error": {"message", "fields"}}``):

- In English (no ``Accept-Language``, as every test sends by default): no Chinese outside the
  data. The suite's every API test is walked this way, at no extra cost.
- In Chinese: the error-test modules in ``WALKED`` run each of their tests a second time with
  ``Accept-Language: zh-CN`` (as a phone in China sends it). Then the message and every field
  error must hold Chinese and no English words outside the data.

"The data" is what people typed, which stays as they wrote it: a run of Chinese (in English)
or of English words (in Chinese) is allowed when the request itself holds it (an echoed
value, a header name) or a text column of the project's tables does (a cooperative's name,
a lot code). Codes and field paths are English by design and are not checked.

Why parametrise rather than replay: requests are not idempotent (throttles count, orders are
placed), so each language runs the whole test from its own start. Why these modules: they
are where the suite provokes the domain's refusals (minimum order, increment, stock
shortfall, cooperative minimum order value, lifecycle moves, approval, standing orders, lots,
tiers, negotiated prices, logins, malformed requests, payments, Stripe, logistics); the others
would only repeat framework refusals these already walk. At the end of a run that walked all
of them, the run fails if the Chinese walk never met one of the domain's error codes
(``DOMAIN_CODES``).
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import translation
from rest_framework.test import APIClient

ROOT = Path(settings.BASE_DIR)
ZH_HEADER = "zh-CN,zh;q=0.9,en;q=0.5"

# The error-test modules that run once per language (paths from the repository root).
WALKED = {
    "tests/accounts/test_auth.py",
    "tests/accounts/test_login_limits.py",
    "tests/accounts/test_tokens.py",
    "tests/backend/test_error_codes.py",
    "tests/backend/test_errors.py",
    "tests/backend/test_integrity.py",
    "tests/backend/test_malformed.py",
    "tests/backend/test_refused_input.py",
    "tests/buyers/test_api.py",
    "tests/logistics/test_api.py",
    "tests/logistics/test_exports.py",
    "tests/notices/test_api.py",
    "tests/orders/test_access.py",
    "tests/orders/test_api_fulfilments.py",
    "tests/orders/test_exports.py",
    "tests/orders/test_idempotency.py",
    "tests/orders/test_imports.py",
    "tests/orders/test_lifecycle.py",
    "tests/orders/test_placement.py",
    "tests/orders/test_standing.py",
    "tests/orders/test_standing_lines.py",
    "tests/orders/test_standing_rules.py",
    "tests/orders/test_stock_moves.py",
    "tests/payments/test_api.py",
    "tests/payments/test_bad_input.py",
    "tests/payments/test_cards.py",
    "tests/payments/test_refunds.py",
    "tests/payments/test_payouts.py",
    "tests/payments/test_stripe_gateway.py",
    "tests/payments/test_webhooks.py",
    "tests/partners/test_keys.py",
    "tests/partners/test_rate_limit.py",
    "tests/partners/test_webhooks_api.py",
    "tests/products/test_api_catalog.py",
    "tests/products/test_api_listings.py",
    "tests/products/test_api_lots.py",
    "tests/products/test_api_negotiated.py",
    "tests/suppliers/test_api.py",
}
# The domain's own refusals the Chinese walk must meet (checked after a full run).
DOMAIN_CODES = {
    "validation_error",
    "below_minimum_order_value",
    "insufficient_stock",
    "illegal_transition",
    "conflict",
    "permission_denied",
    "idempotency_key_reused",
}

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:[ ]+[A-Za-z]{2,})+")

seen_in_chinese: set[str] = set()  # error codes the Chinese walk met


def _module_path(module) -> str:
    return str(Path(module.__file__).resolve().relative_to(ROOT))


def pytest_generate_tests(metafunc):
    if "request_language" in metafunc.fixturenames and _module_path(metafunc.module) in WALKED:
        metafunc.parametrize("request_language", ["en", "zh-hans"], indirect=True)


@pytest.fixture(autouse=True)
def request_language(request, monkeypatch):
    """The language the test's API requests ask for (see the module docstring)."""
    language = getattr(request, "param", "en")
    send = APIClient.request
    # LocaleMiddleware leaves the request's language active in the thread after the answer:
    # the test's own code (services it calls, what it expects) reads in the default.
    translation.activate(settings.LANGUAGE_CODE)

    def request_in_language(client, **kwargs):
        if language == "zh-hans":
            kwargs.setdefault("HTTP_ACCEPT_LANGUAGE", ZH_HEADER)
        payload = getattr(kwargs.get("wsgi.input"), "_FakePayload__content", None)
        body = payload.getvalue().decode("utf-8", "replace") if payload is not None else ""
        response = send(client, **kwargs)
        translation.activate(settings.LANGUAGE_CODE)
        asked = {**kwargs, **client._credentials}.get("HTTP_ACCEPT_LANGUAGE", "")
        if language == "zh-hans" and response.status_code >= 400:
            seen_in_chinese.add(_error(response).get("code", ""))
        said = {**kwargs, "body": body}
        check_language(response, chinese=asked.lower().startswith("zh"), request=said)
        return response

    monkeypatch.setattr(APIClient, "request", request_in_language)
    yield language
    translation.activate(settings.LANGUAGE_CODE)


def _error(response) -> dict:
    if response.status_code < 400 or "json" not in response.get("Content-Type", ""):
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _texts(error: dict) -> list[str]:
    texts = [error.get("message", "")]
    for messages in (error.get("fields") or {}).values():
        texts.extend(messages if isinstance(messages, list) else [messages])
    return [text for text in texts if isinstance(text, str) and text]


def _request_text(request: dict) -> str:
    """Everything the request itself says: an echo of it is the client's data."""
    text = "\n".join(str(value) for value in request.values() if isinstance(value, str))
    return text + "\n" + unquote_plus(text) + "\n" + _unescape(text)


def _unescape(text: str) -> str:
    try:
        return text.encode("latin-1", "replace").decode("unicode_escape", "replace")
    except UnicodeError:
        return ""


def _in_stored_data(fragment: str) -> bool:
    """Some text column of the project's own tables holds ``fragment``."""
    for model in apps.get_models():
        if Path(model._meta.app_config.path).parent != ROOT:
            continue  # a library's table
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and not field.choices:
                lookup = {f"{field.name}__contains": fragment}
                if model._default_manager.filter(**lookup).exists():
                    return True
    return False


def _is_data(fragment: str, request: dict) -> bool:
    return fragment in _request_text(request) or _in_stored_data(fragment)


def check_language(response, *, chinese: bool, request: dict) -> None:
    error = _error(response)
    for text in _texts(error):
        if chinese:
            assert CJK.search(text), f"not in Chinese: {text!r} ({error.get('code')})"
            foreign = ENGLISH_WORDS.findall(text)
        else:
            foreign = CJK.findall(text)
        for fragment in foreign:
            assert _is_data(fragment, request), (
                f"{'English' if chinese else 'Chinese'} {fragment!r} in a "
                f"{'Chinese' if chinese else 'English'} message that is not the user's data: "
                f"{text!r} ({error.get('code')})"
            )


def pytest_sessionfinish(session, exitstatus):
    """After a run that walked every module of WALKED in Chinese and passed, fail if a domain
    refusal was never met: the walk would have stopped covering it."""
    walked = {
        _module_path(item.module)
        for item in session.items
        if getattr(item, "callspec", None) and "request_language" in item.callspec.params
    }
    if exitstatus != 0 or walked != WALKED:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    missing = DOMAIN_CODES - seen_in_chinese
    if missing:
        reporter.write_line(
            f"The Chinese language walk met no {sorted(missing)}: see tests/languages.py",
            red=True,
        )
        session.exitstatus = 1
    else:
        reporter.write_line(f"The Chinese language walk met {sorted(seen_in_chinese)}.")


def said(language: str, template: str, **params) -> str:
    """What a message reads in ``language``: for tests that check the words, in either run."""
    from django.utils import translation

    with translation.override(language):
        return translation.gettext(template) % {key: str(value) for key, value in params.items()}
