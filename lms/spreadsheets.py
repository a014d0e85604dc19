"""Tables to download: CSV that a Russian Excel opens as it is, and XLSX workbooks with numbers as numbers; and
CSV files uploaded for an import, read whatever Excel saved them as.

Excel reads a CSV with the separator and decimal mark of the computer's regional settings: in Russia ";" and
",". So the CSV is UTF-8 with a byte-order mark (without it Excel shows Cyrillic as mojibake), ";"-separated,
and in Russian decimals are written with a comma.
"""
import csv
import io
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lms.uploads import download_response

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE_LENGTH = 31  # Excel's limit
FORBIDDEN_IN_TITLES = str.maketrans({c: " " for c in "[]:*?/\\"})


def csv_safe(value):
    """Spreadsheets run cells starting with = + - @ as formulas; prefix them so they stay text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_cell(value, decimal_mark):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return str(value).replace(".", decimal_mark)
    return csv_safe(value)


def csv_text(rows):
    """The rows (sequences of text and numbers) as CSV text for a spreadsheet program, BOM included."""
    decimal_mark = "," if str(get_locale() or "ru") == "ru" else "."
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(value, decimal_mark) for value in row])
    return "\ufeff" + buffer.getvalue()


def csv_download(rows, filename):
    return download_response(csv_text(rows), "text/csv; charset=utf-8", filename)


def sheet_title(title, taken=()):
    """A title Excel accepts (31 characters, none of []:*?/\\), different from the titles already taken."""
    base = " ".join(str(title).translate(FORBIDDEN_IN_TITLES).split())[:SHEET_TITLE_LENGTH] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        candidate, n = base[:SHEET_TITLE_LENGTH - len(suffix)] + suffix, n + 1
    return candidate


def xlsx_bytes(sheets):
    """sheets: [(title, rows, frozen_columns)]; the first row of each is its header, kept in view when scrolling
    down, as are the first frozen_columns columns when scrolling sideways."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    titles = []
    for title, rows, frozen_columns in sheets:
        titles.append(sheet_title(title, titles))
        sheet = workbook.create_sheet(titles[-1])
        widths = {}
        for row in rows:
            sheet.append([float(value) if isinstance(value, Decimal) else value for value in row])
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # text starting with "=" stays text, never a formula
                    cell.data_type = "s"
            for column, value in enumerate(row, start=1):
                widths[column] = max(widths.get(column, 0), min(len(str(value or "")), 50))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}2"
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = max(width + 2, 6)
    if not titles:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_download(sheets, filename):
    return download_response(xlsx_bytes(sheets), XLSX_TYPE, filename)


MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# A cell may be as long as the whole file: an over-long name is then a row's error, not the csv module's
# "field larger than field limit" (131,072 characters by default) for the whole file.
csv.field_size_limit(MAX_IMPORT_BYTES)


class CsvImportError(ValueError):
    """The file as a whole cannot be read; str() is the message."""


def decode_csv(data):
    """The text of an uploaded CSV: UTF-8 (with or without a BOM) or Windows-1251, as Excel saves it."""
    if b"\0" in data[:4096]:
        raise CsvImportError(_l("This is not a CSV file: save the table as “CSV (comma-separated)” and try again."))
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvImportError(_l("This is not a CSV file: save the table as “CSV (comma-separated)” and try again."))


def read_csv_records(data):
    """The non-blank lines of an uploaded CSV as lists of cells: UTF-8 or Windows-1251, separated by commas,
    semicolons (a Russian Excel's) or tabs. CsvImportError for a file that is too large or not text."""
    if len(data) > MAX_IMPORT_BYTES:
        raise CsvImportError(_l("The file is larger than 2 MB; split it into smaller files."))
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [r for r in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in r)]


def import_upload(files, form):
    """The CSV an import page was sent: the file chosen, or the text of its preview sent back to import it."""
    upload = files.get("file")
    data = upload.read() if upload and upload.filename else form.get("content", "").encode()
    if not data:
        raise CsvImportError(_l("Choose a CSV file."))
    return data


def check_row_count(records):
    """CsvImportError unless there are from one to MAX_ROWS rows (after any header)."""
    if not records:
        raise CsvImportError(_l("The file has no rows."))
    if len(records) > MAX_ROWS:
        raise CsvImportError(_l("At most %(n)d rows per file.", n=MAX_ROWS))
