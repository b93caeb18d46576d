"""Reading a purchase list: a CSV or XLSX file from a stranger, into its columns and rows of
text, or a 400 naming what is wrong with the file. Nothing here knows listings or stores
(services/imports.py resolves the rows); everything here distrusts the bytes.

- Columns are named in English or in Chinese (``COLUMNS``), in any order and case; a column
  we do not know, one named twice, or a required one missing refuses the file, naming them.
- CSV is read as UTF-8 (with or without a byte-order mark) or else as GB18030, which holds
  GBK and GB2312: what Excel on Chinese Windows saves. Anything else is refused.
- XLSX is read with openpyxl in read-only mode (rows streamed, not the whole sheet in memory),
  after checking the zip will not expand past ``MAX_UNZIPPED_BYTES``; defusedxml guards its XML.
- A formula is refused, not evaluated or passed on: a formula cell in XLSX, and text starting
  like one (``=``, ``+``, ``-``, ``@``) in either (backend.exports.formula_like; a signed
  number is a number).
- NUL bytes, more than PURCHASE_IMPORT_MAX_ROWS data rows, or no rows at all are refused.
"""

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from openpyxl import load_workbook
from rest_framework import status

from backend.errors import DomainError
from backend.exports import formula_like

logger = logging.getLogger(__name__)

# column → the headers that name it (compared case-insensitively, spaces trimmed).
COLUMNS = {
    "listing": ("listing", "listing id", "listing_id", "商品编号"),
    "product": ("product", "product name", "产品", "品名"),
    "quantity": ("quantity", "qty", "数量"),
    "store": ("store", "store name", "门店"),
}
REQUIRED = ("quantity", "store")  # and one of listing, product
# How a message names each column: in Chinese, its Chinese header.
LABELS = {
    "listing": pgettext_lazy("purchase list column", "listing"),
    "product": pgettext_lazy("purchase list column", "product"),
    "quantity": pgettext_lazy("purchase list column", "quantity"),
    "store": pgettext_lazy("purchase list column", "store"),
}
MAX_COLUMNS = 20
MAX_CELL = 100  # characters of a cell kept; no id, quantity or store name is longer
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_SHEET_ROWS = 20_000  # blank rows included: a sheet formatted far below its data
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class FileRefused(DomainError):
    """The file cannot be read as a purchase list; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message, fields={"file": [message]})


class FileTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"


def check_size(size: int) -> None:
    limit = settings.PURCHASE_IMPORT_MAX_BYTES
    if size > limit:
        message = _("The file is larger than %(limit)s bytes.") % {"limit": limit}
        raise FileTooLarge(message, fields={"file": [message]})


@dataclass
class Sheet:
    columns: list[str]  # the known columns present, by their English name
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, cells)


def read(*, file_name: str, content: bytes) -> Sheet:
    check_size(len(content))
    if not content.strip():
        raise FileRefused(_("The file is empty."))
    if content.startswith(OLE_MAGIC):
        raise FileRefused(_("This is an old Excel file (.xls): save it as XLSX or CSV."))
    if content.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    else:
        rows = _csv_rows(content)
    return _sheet(rows)


# --- reading the bytes ---------------------------------------------------------------------------
def _decode(content: bytes) -> str:
    if b"\x00" in content:
        raise FileRefused(_("The file holds NUL bytes: save it as CSV (UTF-8) or XLSX."))
    if content.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(_("The file is neither UTF-8 nor GBK text: save it as CSV (UTF-8)."))


def _csv_rows(content: bytes):
    reader = csv.reader(io.StringIO(_decode(content), newline=""), strict=True)
    try:
        for cells in reader:
            yield reader.line_num, [(cell, False) for cell in cells[: MAX_COLUMNS + 1]]
    except csv.Error:  # a quote left open, a field past csv's size limit
        raise FileRefused(
            _("The CSV cannot be read at line %(line)s.") % {"line": reader.line_num}
        ) from None


def _xlsx_cell(cell) -> tuple[str, bool]:
    """(text, is a formula) of one cell."""
    value = cell.value
    if value is None:
        return "", False
    if getattr(cell, "data_type", None) == "f":
        return str(value), True
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 10.0, as Excel stores a typed 10
    return str(value), False


def _xlsx_rows(content: bytes):
    not_xlsx = FileRefused(_("The file is not a valid XLSX workbook."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_xlsx from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise FileRefused(_("The workbook expands to too much data to be a purchase list."))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl, zipfile and the XML parser each have their own errors
        raise not_xlsx from None
    try:
        if not book.worksheets:
            raise not_xlsx
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
            if number > MAX_SHEET_ROWS:
                raise _too_many_rows()
            yield number, [_xlsx_cell(cell) for cell in row]
    except FileRefused:
        raise
    except Exception:  # a broken sheet inside a valid zip: XML or value errors, alike
        logger.info("unreadable XLSX sheet", exc_info=True)
        raise not_xlsx from None
    finally:
        book.close()


# --- columns and rows ---------------------------------------------------------------------------
def _too_many_rows() -> FileRefused:
    return FileRefused(
        _("The file has more than %(max)s rows: split it into several.")
        % {"max": settings.PURCHASE_IMPORT_MAX_ROWS}
    )


def _column_of(header: str) -> str | None:
    wanted = " ".join(header.split()).lower()
    for column, names in COLUMNS.items():
        if wanted in names:
            return column
    return None


def _header(cells: list[tuple[str, bool]]) -> dict[int, str]:
    """Position → column, refusing unknown, repeated and missing columns, naming them."""
    if len(cells) > MAX_COLUMNS and any(text.strip() for text, _formula in cells[MAX_COLUMNS:]):
        raise FileRefused(_("The file has more than %(max)s columns.") % {"max": MAX_COLUMNS})
    positions: dict[int, str] = {}
    unknown, repeated = [], []
    for position, (text, _formula) in enumerate(cells):
        name = text.strip()
        if not name:
            continue  # an empty header cell: a column nobody filled in
        column = _column_of(name)
        if column is None:
            unknown.append(name[:MAX_CELL])
        elif column in positions.values():
            repeated.append(name[:MAX_CELL])
        else:
            positions[position] = column
    accepted = _("%(listing)s or %(product)s, %(quantity)s, %(store)s") % {
        column: label for column, label in LABELS.items()
    }
    if unknown:
        raise FileRefused(
            _("Unknown columns: %(columns)s. Columns accepted: %(accepted)s.")
            % {"columns": ", ".join(unknown), "accepted": accepted}
        )
    if repeated:
        raise FileRefused(_("Columns named twice: %(columns)s.") % {"columns": ", ".join(repeated)})
    present = set(positions.values())
    missing = [str(LABELS[c]) for c in REQUIRED if c not in present]
    if not present & {"listing", "product"}:
        missing.insert(
            0,
            _("%(listing)s or %(product)s")
            % {"listing": LABELS["listing"], "product": LABELS["product"]},
        )
    if missing:
        raise FileRefused(
            _("Missing columns: %(columns)s. Columns accepted: %(accepted)s.")
            % {"columns": ", ".join(missing), "accepted": accepted}
        )
    return positions


def _sheet(rows) -> Sheet:
    header = None
    sheet = None
    for number, cells in rows:
        if not any(text.strip() for text, _formula in cells):
            continue  # blank rows, before the header or between rows
        for position, (text, formula) in enumerate(cells):
            if formula or formula_like(text.strip()):
                raise FileRefused(
                    _("Row %(row)s, column %(column)s holds a formula; only values are read.")
                    % {"row": number, "column": position + 1}
                )
            if "\x00" in text:
                raise FileRefused(_("The file holds NUL bytes: save it as CSV (UTF-8) or XLSX."))
        if header is None:
            header = _header(cells)
            sheet = Sheet(columns=list(header.values()))
            continue
        if len(sheet.rows) >= settings.PURCHASE_IMPORT_MAX_ROWS:
            raise _too_many_rows()
        values = {column: "" for column in header.values()}
        for position, column in header.items():
            if position < len(cells):
                values[column] = cells[position][0].strip()[:MAX_CELL]
        sheet.rows.append((number, values))
    if sheet is None or not sheet.rows:
        raise FileRefused(_("The file has no rows to order."))
    return sheet
