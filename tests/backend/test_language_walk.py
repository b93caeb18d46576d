"""The language walk's rule (tests/languages.py) refuses what it should, and lets the users'
data through in either language."""

import pytest
from django.http import JsonResponse

from backend.errors import error_body
from tests.factories import CooperativeFactory
from tests.languages import check_language


def answer(message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body("validation_error", message, fields), status=400)


pytestmark = pytest.mark.django_db  # data is looked up in the tables

NO_REQUEST = {"PATH_INFO": "/api/v1/orders/", "body": ""}


def test_an_english_message_in_a_chinese_answer_is_refused():
    with pytest.raises(AssertionError, match="not in Chinese"):
        check_language(answer("The minimum order is 50 kg."), chinese=True, request=NO_REQUEST)


def test_an_english_field_error_beside_a_chinese_message_is_refused():
    response = answer("部分字段无效。", {"lines.0.quantity": ["起订量为 50 公斤。 Left out."]})
    with pytest.raises(AssertionError, match="English 'Left out'"):
        check_language(response, chinese=True, request=NO_REQUEST)


def test_chinese_in_an_english_answer_is_refused_unless_it_is_data():
    cooperative = CooperativeFactory(name_zh="蜜源养蜂专业合作社")
    said = f"{cooperative.name_zh} delivers orders from ¥1,000.00."
    check_language(answer(said), chinese=False, request=NO_REQUEST)
    with pytest.raises(AssertionError, match="Chinese '起订量为'"):
        check_language(answer("起订量为 50 kg."), chinese=False, request=NO_REQUEST)


def test_english_the_request_itself_sent_may_come_back_in_a_chinese_answer():
    request = {**NO_REQUEST, "QUERY_STRING": "fields=not%20a%20field"}
    check_language(answer("未知字段：not a field。"), chinese=True, request=request)
    with pytest.raises(AssertionError):
        check_language(answer("未知字段：something else。"), chinese=True, request=request)


def test_codes_and_field_paths_are_not_checked():
    response = answer("部分字段无效。", {"lines.0.quantity": ["起订量为 50 公斤。"]})
    check_language(response, chinese=True, request=NO_REQUEST)
