"""How numbers, money and dates read inside a message a person sees. The one place: every
message formats its values through these, so "50 公斤", "¥1,234.50" and "2026年3月2日" read
the same everywhere. JSON keeps the exact values (decimal strings, ISO dates).

The functions are lazy: called inside a request they read in the request's language (as soon
as the message is built with ``%``); kept in a ``message()`` they read in whatever language is
active when the message is finally turned into text (an e-mail rendered per recipient).
"""

import datetime
from decimal import Decimal

from django.utils import formats
from django.utils.functional import Promise, lazy


def _quantity(value: Decimal, unit: str = "") -> str:
    # normalize() drops trailing zeros (50.000 → 50); "f" keeps 1E+2 from reading as such.
    number = f"{Decimal(value).normalize():,f}"
    return f"{number} {unit}" if unit else number


def _money(amount: Decimal) -> str:
    amount = Decimal(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _month(value: datetime.date) -> str:
    return formats.date_format(value, "YEAR_MONTH_FORMAT")


def _render(template: str, params: dict) -> str:
    if not params:
        return str(template)  # as gettext left it: a lone "%" is text, not a placeholder
    return str(template) % {
        key: str(value) if isinstance(value, Promise) else value for key, value in params.items()
    }


def _join(separator: str, parts: list) -> str:
    return str(separator).join(str(part) for part in parts)


quantity = lazy(_quantity, str)
"""``quantity(Decimal("50.000"), unit_name)`` → "50 公斤" / "50 kg": no trailing zeros."""

money = lazy(_money, str)
"""``money(Decimal("1234.5"))`` → "¥1,234.50", in every language."""

date = lazy(_date, str)
"""A date in the active language's own format (2026年3月2日, March 2, 2026)."""

month = lazy(_month, str)
"""A calendar month in the active language's own format (2026年3月, March 2026)."""

message = lazy(_render, str)
"""``message(_("... %(name)s ..."), {"name": ...})``: a message turned into text only when it
is read, so it can be read in several languages (one e-mail per recipient's language)."""

join = lazy(_join, str)
"""Join parts (lazy or not) into one text, when it is read."""
