import pytest
from django.core.exceptions import ValidationError

from backend.validators import (
    credit_code_check_character,
    normalize_cn_phone,
    validate_credit_code,
)

# The example code of GB 32100-2015 explanations (a Fuzhou organisation): valid.
REAL_CODE = "91350100M000100Y43"


def test_check_character_of_a_real_credit_code():
    assert credit_code_check_character(REAL_CODE[:17]) == "3"


def test_real_credit_code_is_valid():
    validate_credit_code(REAL_CODE)  # does not raise


@pytest.mark.parametrize(
    "code",
    [
        REAL_CODE[:17] + "4",  # wrong check character
        REAL_CODE[:17],  # 17 characters
        REAL_CODE + "0",  # 19 characters
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100O000100Y43",  # nor O
        "91350100S000100Y43",  # nor S
        REAL_CODE.lower(),  # capitals only
        "",
    ],
)
def test_invalid_credit_codes_are_refused(code):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)
    assert caught.value.code == "invalid_credit_code"


def test_check_character_can_be_zero():
    # A remainder of 0 maps to "0", not to index 31 (out of the alphabet).
    first17 = next(
        f"93522326MA{n:07d}"
        for n in range(10_000)
        if credit_code_check_character(f"93522326MA{n:07d}") == "0"
    )
    validate_credit_code(first17 + "0")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13912345678", "+8613912345678"),
        ("+86 139 1234 5678", "+8613912345678"),
        ("+86 139-1234-5678", "+8613912345678"),
        ("8613912345678", "+8613912345678"),
        ("0859-4123456", "+868594123456"),  # Qianxinan landline (area code 0859)
        ("(0859) 4123456", "+868594123456"),
        ("010-12345678", "+861012345678"),  # Beijing landline
        ("+86 10 1234 5678", "+861012345678"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw, e164):
    assert normalize_cn_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "1391234567",  # one digit short
        "139123456789",  # one digit too many
        "+1 202 555 0100",  # not mainland China
        "+852 6123 4567",  # Hong Kong
        "abc",
        "",
    ],
)
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError) as caught:
        normalize_cn_phone(raw)
    assert caught.value.code == "invalid_phone"
