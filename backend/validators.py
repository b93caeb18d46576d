"""Validators for Chinese identifiers used across apps."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the unified social credit code (统一社会信用代码) is 18 characters from this
# alphabet (no I, O, S, V, Z); the last one is a check character over the first 17.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_REGEX = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


def credit_code_check_character(first17: str) -> str:
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18 or any(char not in CREDIT_CODE_ALPHABET for char in value):
        raise ValidationError(
            _(
                "A unified social credit code is 18 characters: digits and capital letters "
                "except I, O, S, V and Z."
            ),
            code="invalid_credit_code",
        )
    if credit_code_check_character(value[:17]) != value[17]:
        raise ValidationError(
            _("The check character of this unified social credit code does not match."),
            code="invalid_credit_code",
        )


# Said in the schema (backend.schema): the form, not the check character, which OpenAPI
# cannot compute; that one is in the field's description and refused with a 400.
validate_credit_code.openapi = {
    "pattern": CREDIT_CODE_REGEX,
    "minLength": 18,
    "maxLength": 18,
    "description": _(
        "Unified social credit code (GB 32100-2015): 18 digits and capital letters except I, "
        "O, S, V and Z, the last a check character over the first 17."
    ),
}


# What the schema promises a client can send and have accepted: a mainland mobile number, with
# or without +86, on a prefix that is in service for every number behind it (libphonenumber's
# metadata). Landlines with their area code ("0851-8555 1234") and spaces are accepted too
# (normalize_cn_phone decides), but not every digit string of that form is a real number.
# [0-9], not \d: in Python's re (and so in tools that generate from the pattern) \d is any
# script's digit.
CN_MOBILE_INPUT_PATTERN = (
    r"^(?:\+86)?1(?:3[0-9]|4[57]|5[0-35-9]|6[2567]|7[0-35-8]|8[0-9]|9[0-35-9])[0-9]{8}$"
)
# What is stored and answered: E.164, +86 and 9 to 11 digits.
CN_PHONE_E164_PATTERN = r"^\+86[0-9]{9,11}$"


def normalize_cn_phone(value: str) -> str:
    """Parse a mainland China phone number (mobile or landline, with or without +86) into
    E.164 (+8613812345678), or raise ValidationError."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid mainland China phone number (+86)."), code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
