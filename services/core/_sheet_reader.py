"""Reads one sheet of an uploaded workbook in a process of its own, so that no
file can take the server's memory: run by `services.core.uploads.read_workbook`
as `python -P _sheet_reader.py '<request as JSON>'`, the file on stdin, a pickled
result on stdout.

It caps its own data segment and CPU time first (RLIMIT_DATA, RLIMIT_CPU); a file
that needs more (calamine lays a sheet out as a dense grid, and expands a shared
string into every cell that uses it) ends this process, which the parent reports
as a refusal.  Rows are read one at a time (`iter_rows`); the first `keep` that
are not blank are kept, the rest only counted.  Imports only the standard library
and python_calamine.

Results: ("ok", sheets, sheet, rows, filled), ("no_such_sheet", sheets),
("no_sheets",), ("too_many_cells", sheet, height, width), ("not_a_spreadsheet",).

Batch mode (`"sizes": [n1, n2, ...]`, the files one after the other on stdin): every
sheet of each file, every row as it stands (blank rows too), one result per file:
("ok", sheets, {sheet: rows}), ("too_many_cells", sheet, height, width),
("too_many_rows", sheet, rows), ("not_a_spreadsheet",) -- each file's workbook is
released before the next is opened.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
from typing import Any

BLANK: list[Any] = []


def _cap(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows
        return
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read(data: bytes, request: dict[str, Any]) -> tuple:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
    except MemoryError:
        raise
    except Exception:
        return ("not_a_spreadsheet",)
    if request.get("names_only"):
        return ("ok", names, "", [], 0)
    sheet = request.get("sheet")
    if sheet is not None and sheet not in names:
        return ("no_such_sheet", names)
    if not names:
        return ("no_sheets",)
    chosen = sheet if sheet is not None else names[0]
    try:
        grid = book.get_sheet_by_name(chosen)
        height, width = grid.height, grid.width
        if height * width > request["max_cells"]:
            return ("too_many_cells", chosen, height, width)
        keep = request["keep"]
        rows: list[list[Any]] = []
        filled = 0
        for row in grid.iter_rows():
            if all(_blank(c) for c in row):
                if filled < keep:
                    rows.append(BLANK)  # one shared empty row: a blank row costs a pointer
                continue
            filled += 1
            if filled <= keep:
                rows.append(row)
    except MemoryError:
        raise
    except Exception:
        return ("not_a_spreadsheet",)
    del grid, book  # calamine's copy of the sheet, before the rows are written out
    return ("ok", names, chosen, rows, filled)


def read_all(data: bytes, request: dict[str, Any]) -> tuple:
    """Every sheet of one workbook, every row (for the district's collection)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
    except MemoryError:
        raise
    except Exception:
        return ("not_a_spreadsheet",)
    sheets: dict[str, list[list[Any]]] = {}
    try:
        for name in names:
            grid = book.get_sheet_by_name(name)
            height, width = grid.height, grid.width
            if height * width > request["max_cells"]:
                return ("too_many_cells", name, height, width)
            if height > request["keep"]:
                return ("too_many_rows", name, height)
            sheets[name] = grid.to_python(skip_empty_area=False)
            del grid
    except MemoryError:
        raise
    except Exception:
        return ("not_a_spreadsheet",)
    del book
    return ("ok", names, sheets)


def main() -> None:
    request = json.loads(sys.argv[1])
    _cap(request["memory_bytes"], request["cpu_seconds"])
    data = sys.stdin.buffer.read()
    result: Any
    if "sizes" in request:
        result, at = [], 0
        for size in request["sizes"]:
            result.append(read_all(data[at : at + size], request))
            at += size
    else:
        result = read(data, request)
    pickle.dump(result, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
