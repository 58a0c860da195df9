"""Reading a CSV file with a header, as a person's HR system or spreadsheet writes it:
UTF-8 (with or without the byte-order mark Excel puts first), comma-separated, one
record per row. Every problem is told by row (as a spreadsheet numbers them: the header
is row 1) and column, all of them at once; a file with any problem gives no rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from states.errors import CellProblem, ImportInvalid

# A file of 100,000 people is about 10 MB; one much larger is not an organisation's.
MAX_IMPORT_BYTES = 32 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
SAVE_AS = "save it as “CSV UTF-8 (comma delimited)”"


@dataclass(frozen=True)
class CsvRow:
    """One record: its row number and its cells by column name, trimmed."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvFile:
    columns: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def decoded(data: bytes) -> str:
    """The file's text; an encoding that is not UTF-8 is refused with where it shows."""
    if len(data) > MAX_IMPORT_BYTES:
        raise _refused(f"larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    for mark, encoding in _OTHER_BOMS.items():
        if data.startswith(mark):
            raise _refused(
                f"the file is {encoding} (it starts with its byte-order mark): {SAVE_AS}"
            )
    body = data.removeprefix(UTF8_BOM)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        byte = body[error.start : error.start + 1].hex().upper()
        raise _refused(
            f"line {line}: byte 0x{byte} is not UTF-8 text (a file saved as GBK or Latin-1 "
            f"is not read): {SAVE_AS}"
        ) from None


def _refused(message: str) -> ImportInvalid:
    return ImportInvalid("the file", [CellProblem(0, "", message)])


def read_csv(
    data: bytes, *, source: str, required: Sequence[str], optional: Sequence[str]
) -> CsvFile:
    """The file's header and rows; every problem of its shape (encoding, header, cells
    per row, CSV syntax) at once as `ImportInvalid`. Blank rows are left out."""
    try:
        text = decoded(data)
    except ImportInvalid as refused:
        raise ImportInvalid(source, refused.problems) from None
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[CellProblem] = []
    try:
        header = [cell.strip().casefold() for cell in next(records, [])]
    except csv.Error as error:
        raise ImportInvalid(source, [CellProblem(1, "", f"not CSV: {error}")]) from None
    columns = _header_problems(header, required, optional, problems)
    rows = _rows(records, header, problems)
    if problems:
        raise ImportInvalid(source, problems)
    return CsvFile(columns, tuple(rows))


def _header_problems(
    header: list[str], required: Sequence[str], optional: Sequence[str], problems: list[CellProblem]
) -> tuple[str, ...]:
    known = (*required, *optional)
    if not any(header):
        problems.append(CellProblem(1, "", f"the header row is missing: {', '.join(known)}"))
        return ()
    if len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
        problems.append(
            CellProblem(1, "", f"the header is one column '{header[0][:80]}': {SAVE_AS}")
        )
        return ()
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(CellProblem(1, name, "this column is in the header twice"))
        elif name not in known:
            shown = name[:80] or "(an empty column name)"
            problems.append(
                CellProblem(1, shown, f"unknown column; the columns are {', '.join(known)}")
            )
        seen.add(name)
    for name in required:
        if name not in seen:
            problems.append(CellProblem(1, name, "this column is missing from the header"))
    return tuple(header)


def _rows(
    records: Iterator[list[str]], header: list[str], problems: list[CellProblem]
) -> list[CsvRow]:
    rows: list[CsvRow] = []
    number = 1
    while True:
        number += 1
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as error:  # the rest of the file cannot be told apart into rows
            problems.append(CellProblem(number, "", f"not CSV from this row on: {error}"))
            break
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) == MAX_IMPORT_ROWS:
            problems.append(CellProblem(number, "", f"more than {MAX_IMPORT_ROWS} rows"))
            break
        if len(record) != len(header):
            problems.append(
                CellProblem(
                    number, "", f"{len(record)} cells, but the header has {len(header)} columns"
                )
            )
            continue
        rows.append(
            CsvRow(number, {c: cell.strip() for c, cell in zip(header, record, strict=True)})
        )
    return rows
