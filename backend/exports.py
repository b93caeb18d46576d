"""Spreadsheet files the API answers (CSV and XLSX, with openpyxl), the one way: every export
of every app builds a header and rows, and turns them into a file here.

- CSV is UTF-8 with a byte-order mark: Excel on Chinese Windows reads it as UTF-8, not GBK.
- Text a spreadsheet would run as a formula is written as text (CSV injection): in CSV with a
  leading apostrophe, in XLSX as a string cell. Numbers (``-12.50``) and phone numbers in
  E.164 (``+8613800000001``) are left alone.
- Headers are translated by the caller, in the language of the request.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][0-9]+(\.[0-9]+)?")


def formula_like(value) -> bool:
    """Text a spreadsheet would run as a formula: it starts with = + - @, a tab or a carriage
    return, and is not simply a signed number."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return False
    return not _SIGNED_NUMBER.fullmatch(value)


def _cell(value):
    return "" if value is None else value


def as_csv(rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # A leading apostrophe makes a spreadsheet show the text instead of running it.
        writer.writerow([f"'{c}" if formula_like(c) else _cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_cell(value):
    # XML 1.0 cannot carry most control characters (openpyxl refuses them): stored text may
    # hold them (a driver's note pasted from a phone), and the file must still be made.
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return _cell(value)


def as_xlsx(rows: Iterable[Sequence], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    for row in rows:
        sheet.append([_xlsx_cell(c) for c in row])
        # openpyxl writes text starting with "=" as a formula: a store's name is not a
        # spreadsheet's instruction, so such cells are stored as text.
        for cell in sheet[sheet.max_row]:
            if formula_like(cell.value):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_response(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class FileActionsMixin:
    """For viewsets: the file actions answer their file to any Accept (``text/csv`` too, not
    a 406); errors still leave as JSON, in the one shape."""

    file_actions = ("as_csv", "as_xlsx")

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(
            request, force=force or self.action in self.file_actions
        )
