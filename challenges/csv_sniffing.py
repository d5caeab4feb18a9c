"""How a teacher's CSV is written: text or not, and which separator it uses.

Spreadsheets export "CSV" with semicolons (and decimal commas) in many locales,
and teachers sometimes pick the .xlsx or .parquet next to the .csv. pandas
would read the first as one giant column and answer the second with a
tokenizer error; here both get a sentence that says what the file is.
Pure functions on the first bytes of the file: no Django, no pandas.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

# Enough lines to see the shape of the file, small enough to read at every check.
SAMPLE_BYTES = 64 * 1024
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# Leading bytes of the files teachers upload by mistake, most specific first.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "a Parquet file: give it a .parquet name"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls): save it as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive: uncompress it first"),
    (b"BZh", "a bzip2 archive: uncompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: uncompress it first"),
    (b"SQLite format 3\x00", "an SQLite database: export a table as CSV"),
    (b"\x93NUMPY", "a NumPy array: save it with pandas' to_csv"),
    (b"\x80", "a Python pickle: save it with pandas' to_csv"),
)
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^-?\d+\.\d+$")


class NotCsvError(ValueError):
    """The file is not a CSV this platform can read; the message says what to do."""


@dataclass(frozen=True)
class CsvDialect:
    separator: str
    decimal: str


def binary_kind(head: bytes) -> str | None:
    """What a non-text file looks like, or None for text."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head.startswith(b"PK\x03\x04"):
        # An .xlsx (and .ods) is a zip whose first entries name its parts.
        if b"xl/" in head or b"[Content_Types].xml" in head:
            return "an Excel workbook (.xlsx): save it as CSV"
        if b"opendocument.spreadsheet" in head:
            return "an OpenDocument spreadsheet (.ods): save it as CSV"
        return "a zip archive: unzip it and upload the CSV inside"
    if b"\x00" in head:
        # Text never holds NUL bytes, except UTF-16, which is text in the wrong encoding.
        return None if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "a binary file"
    return None


def sniff_csv(head: bytes) -> CsvDialect:
    """The separator and decimal mark of a CSV, from its first bytes.

    A comma file that pandas read before reads the same way; another separator is
    taken only when it alone splits the header and every sampled line alike.
    """
    kind = binary_kind(head)
    if kind is not None:
        raise NotCsvError(f"This file is not text (CSV expected): it looks like {kind}.")
    text = _sample_text(head)
    split = {sep: _split(text, sep) for sep in SEPARATORS}
    if not split[","]:
        return CsvDialect(",", ".")
    counts = {sep: [len(row) for _, row in rows] for sep, rows in split.items()}
    width = {sep: lines[0] for sep, lines in counts.items()}
    if width[","] > 1 and max(counts[","]) <= width[","]:
        return CsvDialect(",", ".")
    fitting = [
        sep
        for sep in (";", "\t", "|")
        if width[sep] > 1 and all(count == width[sep] for count in counts[sep])
    ]
    if len(fitting) == 1:
        separator = fitting[0]
        return CsvDialect(separator, _decimal_mark([row for _, row in split[separator][1:]]))
    if len(fitting) > 1:
        splits = ", ".join(f"{width[sep]} columns on {SEPARATORS[sep]}s" for sep in fitting)
        raise NotCsvError(
            f"The separator is unclear: the header splits into {splits}. "
            "Save the file with a single separator (comma-separated is safest)."
        )
    likely = max(SEPARATORS, key=lambda sep: width[sep])
    if width[likely] > 1 and likely != ",":
        line, row = next((n, row) for n, row in split[likely] if len(row) != width[likely])
        raise NotCsvError(
            f"The file looks {SEPARATORS[likely]}-separated, but line {line} has "
            f"{len(row)} fields where the header has {width[likely]}: "
            "give every line as many fields as the header, or save it comma-separated."
        )
    return CsvDialect(",", ".")


def _sample_text(head: bytes) -> str:
    # An incremental decoder leaves a character cut at the sample's end undecoded
    # instead of failing; a real encoding problem is pandas' to report, on the whole file.
    text = codecs.getincrementaldecoder("utf-8-sig")("replace").decode(head, final=False)
    if len(head) >= SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # the last line may be cut
    return text


class UnclosedQuote(ValueError):
    """A quote opened and never closed: the rows read before it, and where it began."""

    def __init__(self, line: int, error: csv.Error, rows: list[tuple[int, list[str]]]) -> None:
        super().__init__(f"Line {line}: {error}")
        self.line, self.rows = line, rows


def numbered_rows(text: str, separator: str = ",") -> list[tuple[int, list[str]]]:
    """(line number in the file, fields) of each non-blank row. Raises UnclosedQuote."""
    # The csv module, not str.split: a quoted field may hold the separator or a newline,
    # so a row's number is the reader's count, not an index.
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    rows, start = [], 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnclosedQuote(start, error, rows) from None
    return rows


def _split(text: str, separator: str) -> list[tuple[int, list[str]]]:
    try:
        return numbered_rows(text, separator)
    except UnclosedQuote as unclosed:
        return unclosed.rows  # the sample is the rows before it; pandas reports the quote


def _decimal_mark(rows: list[list[str]]) -> str:
    """',' when numbers are written '1,5' and none '1.5' (a European spreadsheet's export)."""
    cells = [cell.strip() for row in rows for cell in row]
    if any(_DECIMAL_COMMA.match(cell) for cell in cells) and not any(
        _DECIMAL_POINT.match(cell) for cell in cells
    ):
        return ","
    return "."
