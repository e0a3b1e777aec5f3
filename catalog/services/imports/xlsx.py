"""Reading an Excel (XLSX) catalog into a Table: the archive checked before it is opened (size,
entries, inflation, shared strings), the sheet streamed cell by cell within work bounds (cells,
rows, wall-clock time), every problem an Invalid a non-technical person can act on."""

from __future__ import annotations

import io
import warnings
import zipfile
import zlib

from catalog.services.errors import Invalid
from catalog.services.imports.deadline import Deadline
from catalog.services.imports.files import (
    MAX_COLUMNS,
    Table,
    _cell_text,
    _file_error,
    _too_many_columns,
    _too_many_rows,
)

XLSX_MAX_INFLATED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 2000
# Work bounds for one sheet, whatever the file declares: cell and row elements read (empty ones
# included) and wall-clock time.
XLSX_CELLS_PER_ROW = 40
XLSX_MIN_CELL_BUDGET = 200_000
XLSX_EMPTY_ROW_ALLOWANCE = 10_000
XLSX_MAX_SECONDS = 30.0


def check_zip(data: bytes) -> None:
    """Refuse zip bombs before openpyxl inflates anything: entry count and total inflated size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _file_error(
            "This is not a valid Excel (.xlsx) file. Open it in Excel and save it again as .xlsx."
        ) from exc
    if len(entries) > XLSX_MAX_ENTRIES:
        raise _file_error("The Excel file has too many parts to be a catalog; refused.")
    if sum(e.file_size for e in entries) > XLSX_MAX_INFLATED:
        raise _file_error(
            f"The Excel file unpacks to more than {XLSX_MAX_INFLATED // (1024 * 1024)} MB; refused."
        )


def _shared_strings_entry(archive: zipfile.ZipFile) -> str | None:
    for name in archive.namelist():
        if name.lower().endswith("sharedstrings.xml"):
            return name
    return None


def _check_shared_strings(data: bytes, limit: int) -> None:
    """Count the shared strings before openpyxl loads them all: a few kilobytes of deflated
    `<si/>` make millions of strings in memory. Stops reading at the limit."""
    from openpyxl.xml.functions import iterparse

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = _shared_strings_entry(archive)
        if name is None:
            return
        count = 0
        with archive.open(name) as source:
            for _event, element in iterparse(source):
                if element.tag.endswith("}si") or element.tag == "si":
                    count += 1
                    element.clear()
                    if count > limit:
                        raise _file_error(
                            f"The Excel file holds more than {limit:,} different texts; a catalog "
                            "of this size has far fewer. Export it as CSV, or split it."
                        )


def _too_much_work() -> Invalid:
    return _file_error(
        "The Excel file holds far more (mostly empty) cells than a catalog needs, or took too long "
        "to read; refused. Copy the catalog's rows into a new sheet, or export it as CSV."
    )


def read_xlsx(data: bytes, max_rows: int, deadline: Deadline | None = None) -> Table:
    """The first sheet as text, reading only the cells the file really holds.

    openpyxl's own row iterator pads every row to the sheet's declared width and fills in every
    missing row, so one cell in column XFD and one in row 1,048,576 make it walk 1.7e10 empty
    cells. Here the sheet XML is streamed element by element and every cell element counts
    against a budget (data or not), rows elements likewise; the `dimension` tag is never read.
    The upload's `deadline` (else XLSX_MAX_SECONDS from now) bounds the wall-clock time.
    """
    check_zip(data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    cell_budget = max(XLSX_MIN_CELL_BUDGET, max_rows * XLSX_CELLS_PER_ROW)
    row_budget = max_rows + XLSX_EMPTY_ROW_ALLOWANCE
    if deadline is None or deadline.at is None:
        deadline = Deadline(XLSX_MAX_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_shared_strings(data, cell_budget)
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise _file_error("The Excel file has no sheet.")
                table = _read_sheet(
                    workbook, workbook.worksheets[0], max_rows, cell_budget, row_budget, deadline
                )
            finally:
                workbook.close()
    except Invalid:
        raise
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        EOFError,
        IndexError,
        AttributeError,
        SyntaxError,
        OverflowError,
        zlib.error,
    ) as exc:
        # SyntaxError covers xml.etree's ParseError: entity tricks (billion laughs, external
        # entities) and broken sheet XML are refused by expat and must not become a 500.
        raise _file_error(
            "This Excel file could not be read (it may be damaged or not really .xlsx). "
            "Open it in Excel and save it again, or export it as CSV."
        ) from exc
    if not table.headers:
        raise _file_error("The first sheet of the Excel file is empty.")
    return table


def _read_sheet(workbook, sheet, max_rows, cell_budget, row_budget, deadline) -> Table:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.functions import iterparse

    table = Table("xlsx", [])
    cells_read = rows_read = 0
    row_cells: dict[int, str] = {}
    sheet_data = None
    with sheet._get_source() as source:
        # openpyxl's cell decoding (shared strings, dates by style, booleans, inline strings),
        # fed one element at a time so nothing is padded or accumulated.
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    rows_read += 1
                    if rows_read > row_budget:
                        raise _too_much_work()
                    number = element.get("r")
                    parser.row_counter = int(number) if number else parser.row_counter + 1
                    parser.col_counter = 0
                    row_cells = {}
                elif tag == "sheetData":
                    sheet_data = element
                continue
            if tag == "c":
                cells_read += 1
                if cells_read > cell_budget:
                    raise _too_much_work()
                deadline.every(cells_read)
                cell = parser.parse_cell(element)
                element.clear()
                text = _cell_text(cell["value"])
                if not text.strip():
                    continue
                if cell["column"] > MAX_COLUMNS:
                    raise _too_many_columns(get_column_letter(min(cell["column"], 16384)))
                row_cells[cell["column"]] = text
            elif tag == "row":
                number = parser.row_counter
                if sheet_data is not None:
                    sheet_data.clear()  # drop the finished row element from the tree
                if not row_cells:
                    continue
                cells = [""] * max(row_cells)
                for column, text in row_cells.items():
                    cells[column - 1] = text
                if not table.headers:
                    table.headers = [c.strip() for c in cells]
                    continue
                if len(table.rows) >= max_rows:
                    raise _too_many_rows(max_rows)
                table.rows.append((number, cells))
            elif tag == "sheetData":
                break
    return table
