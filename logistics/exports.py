"""The manifest as CSV and XLSX (openpyxl): the same columns as the JSON, headers in the
request's language."""

import csv
import io

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

COLUMNS = [
    ("stop", _("Stop")),
    ("fulfilment", _("Fulfilment")),
    ("order", _("Order")),
    ("cooperative", _("Cooperative")),
    ("buyer", _("Buyer")),
    ("store", _("Store")),
    ("address", _("Address")),
    ("contact_name", _("Contact")),
    ("contact_phone", _("Contact phone")),
    ("package_count", _("Packages")),
    ("weight_kg", _("Weight (kg)")),
    ("tracking_number", _("Tracking number")),
]


def _cells(row: dict) -> list:
    return ["" if row[key] is None else row[key] for key, _label in COLUMNS]


def _formula_like(value) -> bool:
    """Text a spreadsheet would run as a formula (CSV injection). A phone number in E.164
    (+86…) is left alone."""
    if not isinstance(value, str) or not value:
        return False
    if value[0] in "=@":
        return True
    return value[0] in "+-" and not value[1:].isdigit()


def manifest_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark: Excel on Chinese Windows reads it as UTF-8, not GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(label) for _key, label in COLUMNS])
    for row in rows:
        # A leading apostrophe makes a spreadsheet show the text instead of running it.
        writer.writerow([f"'{c}" if _formula_like(c) else c for c in _cells(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def manifest_xlsx(rows: list[dict], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append([str(label) for _key, label in COLUMNS])
    for row in rows:
        sheet.append(_cells(row))
        # openpyxl writes text starting with "=" as a formula: a store's name is not a
        # spreadsheet's instruction, so such cells are stored as text.
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
