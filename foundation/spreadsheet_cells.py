"""Text cells of the CSVs teachers open in a spreadsheet, kept from being formulas.

A team name or username is chosen by a student. Excel, LibreOffice and Google
Sheets run a cell that starts with '=', '+', '-' or '@' (and, in some versions,
a tab or carriage return) as a formula: `=HYPERLINK(...)` in a team name would
put a link that leaks the sheet, or worse, in the teacher's grades. As OWASP
advises for CSV injection, such a cell gets a leading apostrophe, which the
spreadsheets show as nothing and read as "this is text". Numbers stay numbers
(a negative score is a float, not text); scripts that need the exact names read
the JSON export, which is never altered.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> Any:
    """`value`, or for a string a spreadsheet would run, that string as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
