"""The limits every uploaded file is held to, checked before anything is unpacked or parsed.

One set of limits, in one place: the pages' upload widgets
(`st.file_uploader(..., max_upload_size=...)`), the spreadsheet imports (staff,
families, awards, incentive pay: `services.ledger.imports`), the sign-in sheet
(`services.education.training`) and the PDF attachments (`services.core.files`)
all read them from here.

A workbook is checked in two steps:

1. `check_workbook` reads only the zip directory of an .xlsx (a few kilobytes at
   its end): the size of the central directory, the number of entries, each
   entry's unpacked size, the unpacked total and the compression ratio.  A zip bomb
   (a 6 MB file whose sheet unpacks to 1 GB) is refused here, before one byte of
   it is inflated, with a message a secretary understands.
2. `read_workbook` reads the sheet in a child process
   (`services/core/_sheet_reader.py`) whose memory and CPU time are capped by the
   operating system, row by row (calamine's `iter_rows`), refusing a sheet whose
   area (rows x columns) is over `MAX_CELLS`, and keeping no more rows than the
   caller asks for.  Whatever the directory check cannot see -- a directory that
   lies about sizes, a few cells far apart that make calamine lay out a grid of
   billions (its sheets are dense), one long shared string repeated in every
   cell, an old .xls -- ends that child, never the server.

Rows per import are capped by `max_rows()` (`TAIZHANG_IMPORT_MAX_ROWS`, default
100,000), counted by the import pipeline (`services.ledger.imports.read_table`).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from services.core.errors import ValidationError
from services.core.i18n import N_

MB = 1024 * 1024
# What a page accepts (Streamlit refuses larger files in the browser); the server
# checks again.  .streamlit/config.toml's server.maxUploadSize is the larger of the two.
MAX_UPLOAD_MB = 20  # spreadsheets
MAX_ATTACHMENT_MB = 10  # PDF attachments
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * MB
MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MB * MB
# An .xlsx: everything in it unpacked, the entries it holds, its directory, how far
# an entry may inflate (a sheet compresses 5-10 times; only entries over a megabyte
# are held to the ratio, small parts such as styles compress much more).
MAX_UNPACKED_MB = 200
MAX_UNPACKED_BYTES = MAX_UNPACKED_MB * MB
MAX_ENTRIES = 1000
MAX_DIRECTORY_BYTES = 1 * MB
MAX_RATIO = 100
RATIO_FROM_BYTES = 1 * MB
# A sheet's area as calamine lays it out (rows x columns, empty cells included).
MAX_CELLS = 3_000_000
# The child process that reads a workbook: its data segment and CPU seconds.
READ_MEMORY_MB = 448
READ_CPU_SECONDS = 30
# A PDF attachment: at most this many pages.
MAX_PDF_PAGES = 500
# Rows of one import (data rows below the header, blank ones not counted).
DEFAULT_MAX_ROWS = 100_000
MAX_ROWS_ENV = "TAIZHANG_IMPORT_MAX_ROWS"

READER = Path(__file__).with_name("_sheet_reader.py")

log = logging.getLogger(__name__)

FILE_EMPTY = N_("The file is empty.")
FILE_TOO_BIG = N_("The file is larger than {max} MB. Split it into smaller files and import them one after the other.")
NOT_A_SPREADSHEET = N_(
    "“{filename}” is not a spreadsheet Taizhang can read. Save it from Excel or WPS as a workbook (.xlsx) or as CSV."
)
NO_SUCH_SHEET = N_("The workbook has no sheet named “{sheet}”. Its sheets are: {sheets}.")
UNPACKS_TOO_BIG = N_(
    "“{filename}” unpacks to more than {max} MB; that is not a normal spreadsheet. "
    "Open it in Excel or WPS, delete what does not belong to the list and save it again."
)
ODD_COMPRESSION = N_(
    "“{filename}” is packed {ratio} times tighter than a spreadsheet can be; that is not a normal spreadsheet. "
    "Open it in Excel or WPS and save it again."
)
TOO_MANY_PARTS = N_(
    "“{filename}” holds more than {max} parts; that is not a normal spreadsheet. "
    "Open it in Excel or WPS and save it again."
)
TOO_MANY_CELLS = N_(
    "The sheet “{sheet}” spans {rows} rows by {columns} columns, more than Taizhang reads ({max} cells). "
    "Delete the unused rows and columns, or split the sheet."
)
TOO_MANY_ROWS = N_(
    "The file has {count} rows; one import takes at most {max}. Split it into smaller files "
    "and import them one after the other."
)
BEYOND_LIMITS = N_(
    "“{filename}” could not be read within the server's limits ({memory} MB of memory, {seconds} seconds); "
    "that is not a normal spreadsheet. Open it in Excel or WPS, delete what does not belong to the list "
    "and save it again."
)


def max_rows() -> int:
    """Rows one import may hold: `TAIZHANG_IMPORT_MAX_ROWS`, default 100,000."""
    raw = os.environ.get(MAX_ROWS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_ROWS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_ROWS_ENV}={raw!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{MAX_ROWS_ENV}={raw!r} must be at least 1")
    return value


def refuse_too_many_rows(count: int) -> None:
    """Refuse an import of `count` rows when that is over `max_rows()`."""
    limit = max_rows()
    if count > limit:
        raise ValidationError(TOO_MANY_ROWS, field="file", count=f"{count:,}", max=f"{limit:,}")


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def is_ole(data: bytes) -> bool:
    """An old Excel (.xls) file: an OLE compound document."""
    return data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_size(data: bytes, limit: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse an empty file, or one over `limit` bytes."""
    if len(data) > limit:
        raise ValidationError(FILE_TOO_BIG, field="file", max=limit // MB)
    if not data:
        raise ValidationError(FILE_EMPTY, field="file")


_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22


def check_workbook(data: bytes, filename: str) -> None:
    """Refuse a workbook over the limits, from its size and (an .xlsx) its zip
    directory alone: nothing is inflated.  An .xls (OLE) is held to the file size
    here and to the reader's limits (`read_workbook`)."""
    check_size(data)
    if not is_zip(data):
        return
    # The end-of-central-directory record: the directory's size, read before
    # zipfile parses it (a 20 MB directory would be half a million entries).
    at = data.rfind(_EOCD, max(0, len(data) - _EOCD_SIZE - 65535))
    if at < 0 or len(data) < at + _EOCD_SIZE:
        raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)
    entries, directory_size = struct.unpack("<HI", data[at + 10 : at + 16])
    if entries > MAX_ENTRIES or directory_size > MAX_DIRECTORY_BYTES:
        raise ValidationError(TOO_MANY_PARTS, field="file", filename=filename, max=MAX_ENTRIES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename) from None
    if len(infos) > MAX_ENTRIES:
        raise ValidationError(TOO_MANY_PARTS, field="file", filename=filename, max=MAX_ENTRIES)
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_UNPACKED_BYTES or total > MAX_UNPACKED_BYTES:
            raise ValidationError(UNPACKS_TOO_BIG, field="file", filename=filename, max=MAX_UNPACKED_MB)
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ValidationError(ODD_COMPRESSION, field="file", filename=filename, ratio=f"{ratio:,}")


Cell = str | float | int | bool | date | datetime | time | timedelta


@dataclass(frozen=True)
class SheetRows:
    """One sheet as read: the workbook's sheets, the sheet read, its rows (the
    first `keep` that are not blank, and the blank ones among them) and how many
    of all its rows are not blank."""

    sheets: list[str]
    sheet: str
    rows: list[list[Cell]]
    filled: int


def sheet_list(data: bytes, filename: str) -> list[str]:
    """The sheets of a workbook, in order (read within the limits)."""
    return _run_reader(data, filename, {"names_only": True}).sheets


def read_workbook(data: bytes, filename: str, sheet: str | None = None, *, keep: int) -> SheetRows:
    """The rows of `sheet` (default: the first) of an .xlsx or .xls file, within the
    limits: the zip directory checked first (`check_workbook`), then the sheet read
    in a child process capped at READ_MEMORY_MB and READ_CPU_SECONDS, keeping the
    first `keep` rows that are not blank.  Raises ValidationError for a file over a
    limit, not a workbook, or without the sheet."""
    return _run_reader(data, filename, {"sheet": sheet, "keep": keep})


# A batch of workbooks read by one child process (the district's collection): at most this
# many files and this many bytes of them, so the child's results stay small.
BATCH_FILES = 20
BATCH_BYTES = 8 * MB


def read_workbooks(files: list[tuple[str, bytes]], *, keep: int) -> list[dict[str, list[list[Cell]]] | ValidationError]:
    """Every sheet of each workbook (all rows, blank ones too, each sheet at most `keep`
    rows), within the same limits as `read_workbook`: each file's zip directory checked
    first, then the files read one after the other in a child process capped in memory
    and CPU time.  One result per file, in order: its sheets by name (workbook order),
    or the ValidationError that refused it.  When the child does not finish (a file
    beyond the limits), each file of the batch is read again on its own, so only that
    file is refused.  Callers pass at most BATCH_FILES files / BATCH_BYTES at a time."""
    results: list[dict[str, list[list[Cell]]] | ValidationError | None] = [None] * len(files)
    readable: list[int] = []
    for i, (name, data) in enumerate(files):
        try:
            check_workbook(data, name)
            if not (is_zip(data) or is_ole(data)):
                raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=name)
            readable.append(i)
        except ValidationError as exc:
            results[i] = exc
    if readable:
        for i, outcome in zip(readable, _read_batch([files[i] for i in readable], keep), strict=True):
            results[i] = outcome
    return [r if r is not None else ValidationError(NOT_A_SPREADSHEET, field="file") for r in results]


def _read_batch(files: list[tuple[str, bytes]], keep: int) -> list[dict[str, list[list[Cell]]] | ValidationError]:
    request = {
        "max_cells": MAX_CELLS,
        "memory_bytes": READ_MEMORY_MB * MB,
        "cpu_seconds": READ_CPU_SECONDS,
        "keep": keep,
        "sizes": [len(data) for _, data in files],
    }
    try:
        done = _start_reader(b"".join(data for _, data in files), request)
        failed = done.returncode != 0
    except subprocess.TimeoutExpired:
        failed = True
    if failed:
        if len(files) > 1:
            return [outcome for item in files for outcome in _read_batch([item], keep)]
        log.warning("reading %r went beyond the limits; refused", files[0][0])
        return [
            ValidationError(
                BEYOND_LIMITS, field="file", filename=files[0][0], memory=READ_MEMORY_MB, seconds=READ_CPU_SECONDS
            )
        ]
    outcomes = _unpickled(done.stdout)
    results: list[dict[str, list[list[Cell]]] | ValidationError] = []
    for (name, _), outcome in zip(files, outcomes, strict=True):
        if outcome[0] == "ok":
            _, names, sheets = outcome
            results.append({n: sheets[n] for n in names})
        elif outcome[0] == "too_many_cells":
            _, chosen, height, width = outcome
            results.append(
                ValidationError(
                    TOO_MANY_CELLS,
                    field="file",
                    sheet=chosen,
                    rows=f"{height:,}",
                    columns=f"{width:,}",
                    max=f"{MAX_CELLS:,}",
                )
            )
        elif outcome[0] == "too_many_rows":
            results.append(ValidationError(TOO_MANY_ROWS, field="file", count=f"{outcome[2]:,}", max=f"{keep:,}"))
        else:
            results.append(ValidationError(NOT_A_SPREADSHEET, field="file", filename=name))
    return results


def _run_reader(data: bytes, filename: str, request: dict) -> SheetRows:
    check_workbook(data, filename)
    if not (is_zip(data) or is_ole(data)):
        raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)
    request = {
        "max_cells": MAX_CELLS,
        "memory_bytes": READ_MEMORY_MB * MB,
        "cpu_seconds": READ_CPU_SECONDS,
        **request,
    }
    beyond = ValidationError(
        BEYOND_LIMITS, field="file", filename=filename, memory=READ_MEMORY_MB, seconds=READ_CPU_SECONDS
    )
    try:
        done = _start_reader(data, request)
    except subprocess.TimeoutExpired:
        log.warning("reading %r took more than %s s; refused", filename, READ_CPU_SECONDS * 2)
        raise beyond from None
    if done.returncode != 0:
        log.warning("reading %r ended with %s; refused: %s", filename, done.returncode, done.stderr.decode()[-500:])
        raise beyond
    result = _unpickled(done.stdout)
    outcome = result[0]
    if outcome == "ok":
        _, names, chosen, rows, filled = result
        return SheetRows(sheets=names, sheet=chosen, rows=rows, filled=filled)
    if outcome == "no_such_sheet":
        raise ValidationError(NO_SUCH_SHEET, field="sheet", sheet=request["sheet"], sheets="、".join(result[1]))
    if outcome == "no_sheets":
        raise ValidationError(FILE_EMPTY, field="file")
    if outcome == "too_many_cells":
        _, chosen, height, width = result
        raise ValidationError(
            TOO_MANY_CELLS,
            field="file",
            sheet=chosen,
            rows=f"{height:,}",
            columns=f"{width:,}",
            max=f"{MAX_CELLS:,}",
        )
    raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)


def _unpickled(data: bytes) -> Any:
    """The reader's pickled result, loaded with the cyclic garbage collector paused: the
    rows are hundreds of thousands of new lists, and every few hundred of them would start
    a collection that walks the whole server's heap (measured: 0.15 s → 0.02 s for 30
    workbooks).  Lists of cells hold no cycles, so nothing is left for it to find."""
    paused = gc.isenabled()
    gc.disable()
    try:
        # Our own script (READER), run by our own interpreter, wrote it.
        return pickle.loads(data)
    finally:
        if paused:
            gc.enable()


def _start_reader(data: bytes, request: dict) -> subprocess.CompletedProcess[bytes]:
    """Run READER on `data`: our own interpreter (without the script's folder on its
    path), the file on stdin, the pickled result on stdout."""
    return subprocess.run(
        [sys.executable, "-P", str(READER), json.dumps(request)],
        input=data,
        capture_output=True,
        timeout=READ_CPU_SECONDS * 2,
        check=False,
    )
