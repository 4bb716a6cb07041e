"""The limits every upload is held to (services/core/uploads.py), on every path that reads
uploaded bytes: staff and family imports, award and pay sheets, the sign-in sheet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from services.core import uploads
from services.core.errors import ValidationError
from services.core.permissions import Role
from services.education import training
from services.ledger import imports
from services.sanctions import awards, bonus
from tests.factories import make_staff, new_session
from tests.import_files import (
    SHEET_HEAD,
    SHEET_TAIL,
    STAFF_HEADERS,
    bomb_xlsx,
    inline_row,
    staff_rows,
    write_xlsx,
    xlsx,
)

ROOT = Path(__file__).resolve().parents[2]
GB = 1024 * 1024 * 1024


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> bytes:
    """The issue's probe: a staff list whose sheet unpacks to 1 GB (3 MB on disk)."""
    return bomb_xlsx(tmp_path_factory.mktemp("bomb") / "staff.xlsx", GB).read_bytes()


@pytest.fixture
def no_reading(monkeypatch):
    """Fails the test if anything starts to unpack the sheet (the reader process)."""
    monkeypatch.setattr(uploads, "_start_reader", lambda *a, **k: pytest.fail("the workbook was read"))


def refusal(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


# ---------------------------------------------------------------- the zip directory


def test_the_zip_bomb_is_refused_from_its_directory_with_a_message_a_secretary_reads(bomb, no_reading):
    err = refusal(lambda: imports.read_table(bomb, "staff.xlsx"))
    assert err.msgid == uploads.UNPACKS_TOO_BIG
    assert err.translated("zh_CN") == (
        "“staff.xlsx”解压后超过 200 MB，不是正常的表格文件。请用 Excel 或 WPS 打开，删除不属于名单的内容后重新保存。"
    )


UPLOAD_PATHS = {
    "staff": lambda engine, actors, data: imports.preview_staff(engine, actors[Role.LEADER], data, "staff.xlsx"),
    "family": lambda engine, actors, data: imports.preview_family(engine, actors[Role.LEADER], data, "family.xlsx"),
    "award": lambda engine, actors, data: awards.preview_nominations(
        engine, actors[Role.LEADER], data, "awards.xlsx", 2025
    ),
    "bonus": lambda engine, actors, data: bonus.preview_pay_sheet(engine, actors[Role.LEADER], data, "pay.xlsx"),
    "sign-in sheet": lambda engine, actors, data: training.marks_from_sign_in_sheet(
        engine, actors[Role.LEADER], new_session(engine, actors[Role.LEADER]), data
    ),
    "sheet list": lambda engine, actors, data: imports.sheet_names(data, "staff.xlsx"),
}


@pytest.mark.parametrize("path", UPLOAD_PATHS)
def test_every_upload_path_refuses_the_bomb_before_unpacking_it(engine, actors, bomb, no_reading, path):
    make_staff(engine, 2)
    err = refusal(lambda: UPLOAD_PATHS[path](engine, actors, bomb))
    assert err.msgid == uploads.UNPACKS_TOO_BIG


MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    # Whatever happens, this process never takes the machine: 3 GB of address space at most.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from services.core.errors import ValidationError
    from services.ledger import imports
    def high_water_mb():
        # VmHWM belongs to this process image; ru_maxrss can carry the peak of the process
        # that forked it (a pytest worker holding hundreds of MB), which is not the upload's.
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    data = open(sys.argv[1], "rb").read()
    before = high_water_mb()
    start = time.perf_counter()
    try:
        imports.read_table(data, sys.argv[2])
        outcome = "read"
    except ValidationError as exc:
        outcome = exc.msgid
    own = high_water_mb()
    reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(json.dumps({"outcome": outcome[:40], "server_before_mb": before, "server_mb": own,
                      "reader_mb": reader, "seconds": round(time.perf_counter() - start, 2)}))
    """
)


def measured(path: Path, filename: str, record_property) -> dict:
    """Upload `path` to the staff import in a fresh process: the outcome (the msgid's start),
    the process's peak memory before and after the upload (the code the server imports
    accounts for the first), the peak of the reader it starts, if any, and the seconds --
    printed (`pytest -s`) and recorded as properties (junit XML); time is never asserted."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), filename],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n{path.name}: {figures}")
    for key, value in figures.items():
        record_property(key, value)
    return figures


def test_the_bomb_upload_peaks_far_below_500_mb(tmp_path, record_property):
    path = bomb_xlsx(tmp_path / "staff.xlsx", GB)
    figures = measured(path, "staff.xlsx", record_property)
    assert figures["outcome"] == uploads.UNPACKS_TOO_BIG[:40]
    assert figures["server_mb"] + figures["reader_mb"] < 500


def test_a_part_packed_too_tightly_is_refused(tmp_path, no_reading):
    # 50 MB of one repeated row: under the size limit, packed about a thousand times.
    data = bomb_xlsx(tmp_path / "tight.xlsx", 50 * 1024 * 1024).read_bytes()
    err = refusal(lambda: imports.read_table(data, "tight.xlsx"))
    assert err.msgid == uploads.ODD_COMPRESSION
    assert "压缩比异常" in err.translated("zh_CN")


def test_a_workbook_of_too_many_parts_is_refused(tmp_path, no_reading):
    rows = SHEET_HEAD + inline_row(1, ["工号", "姓名", "身份证号"]) + SHEET_TAIL
    data = write_xlsx(tmp_path / "parts.xlsx", [rows], extra_parts=uploads.MAX_ENTRIES).read_bytes()
    err = refusal(lambda: imports.read_table(data, "parts.xlsx"))
    assert err.msgid == uploads.TOO_MANY_PARTS


def test_the_unpacked_total_counts_even_for_parts_stored_uncompressed(tmp_path, monkeypatch, no_reading):
    # Stored, not deflated: the ratio is 1 -- the unpacked total still counts.
    head = SHEET_HEAD + inline_row(1, ["工号", "姓名", "身份证号"])
    data = write_xlsx(tmp_path / "stored.xlsx", [head, b" " * (5 * 1024 * 1024), SHEET_TAIL], stored=True).read_bytes()
    uploads.check_workbook(data, "stored.xlsx")  # 5 MB: under 200 MB
    monkeypatch.setattr(uploads, "MAX_UNPACKED_BYTES", 4 * 1024 * 1024)
    err = refusal(lambda: uploads.check_workbook(data, "stored.xlsx"))
    assert err.msgid == uploads.UNPACKS_TOO_BIG


# ---------------------------------------------------------------- what only reading shows


def test_cells_far_apart_end_the_reader_not_the_server(tmp_path, record_property):
    """Two cells, A1 and XFD1048576: calamine lays out every cell between them (17 billion);
    the reader process hits its memory cap and the upload is refused."""
    sheet = SHEET_HEAD + inline_row(1, ["工号", "姓名", "身份证号"])
    sheet += b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>' + SHEET_TAIL
    path = write_xlsx(tmp_path / "sparse.xlsx", [sheet])
    assert path.stat().st_size < 2000
    figures = measured(path, "sparse.xlsx", record_property)
    assert figures["outcome"] == uploads.BEYOND_LIMITS[:40]
    assert figures["server_mb"] < 500


def test_a_sheet_over_the_cell_limit_is_refused_naming_its_size(tmp_path):
    # A1 and Z200000: 26 columns x 200,000 rows = 5.2 million cells, over 3 million.
    sheet = SHEET_HEAD + inline_row(1, ["工号", "姓名", "身份证号"])
    sheet += b'<row r="200000"><c r="Z200000"><v>1</v></c></row>' + SHEET_TAIL
    data = write_xlsx(tmp_path / "wide.xlsx", [sheet]).read_bytes()
    err = refusal(lambda: imports.read_table(data, "wide.xlsx"))
    assert err.msgid == uploads.TOO_MANY_CELLS
    assert err.translated("zh_CN").startswith("工作表“Sheet1”占 200,000 行 × 26 列")


def test_garbage_in_an_ole_file_is_not_a_spreadsheet():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000
    err = refusal(lambda: imports.read_table(data, "old.xls"))
    assert err.msgid == uploads.NOT_A_SPREADSHEET


def test_a_reader_that_runs_out_of_time_is_a_refusal(monkeypatch):
    def too_slow(*_args, **_kwargs):
        raise subprocess.TimeoutExpired("reader", 60)

    monkeypatch.setattr(uploads.subprocess, "run", too_slow)
    err = refusal(lambda: imports.read_table(xlsx([STAFF_HEADERS]), "slow.xlsx"))
    assert err.msgid == uploads.BEYOND_LIMITS
    assert "448 MB" in err.translated("zh_CN")


# ---------------------------------------------------------------- rows per import


def staff_xlsx(n: int) -> bytes:
    return xlsx([["教职工花名册"], STAFF_HEADERS, *staff_rows(n)])


def staff_csv(n: int) -> bytes:
    lines = [",".join(STAFF_HEADERS), *(",".join(map(str, row)) for row in staff_rows(n))]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize("make, filename", [(staff_xlsx, "staff.xlsx"), (staff_csv, "staff.csv")])
def test_rows_over_the_configured_cap_are_refused_naming_count_and_limit(monkeypatch, make, filename):
    monkeypatch.setenv(uploads.MAX_ROWS_ENV, "5")
    assert len(imports.read_table(make(5), filename).rows) == 5  # at the cap: read (title and header not counted)
    err = refusal(lambda: imports.read_table(make(40), filename))
    assert err.msgid == uploads.TOO_MANY_ROWS
    assert err.translated("zh_CN") == "文件有 40 行，一次最多导入 5 行。请把它拆成几个较小的文件，再逐个导入。"


def test_rows_past_the_cap_are_counted_not_kept(monkeypatch):
    monkeypatch.setenv(uploads.MAX_ROWS_ENV, "3")
    data = ("工号,姓名,身份证号\r\n" + "T1,张三,1\r\n" * 100_000).encode()
    err = refusal(lambda: imports.read_table(data, "long.csv"))
    assert err.params["count"] == "100,000" and err.params["max"] == "3"


def test_the_default_cap_is_100000_and_a_bad_setting_is_named(monkeypatch):
    monkeypatch.delenv(uploads.MAX_ROWS_ENV, raising=False)
    assert uploads.max_rows() == 100_000
    monkeypatch.setenv(uploads.MAX_ROWS_ENV, "lots")
    with pytest.raises(ValueError, match=uploads.MAX_ROWS_ENV):
        uploads.max_rows()


def test_the_sign_in_sheet_is_held_to_the_row_cap(engine, actors, monkeypatch):
    leader = actors[Role.LEADER]
    make_staff(engine, 3)
    sid = new_session(engine, leader)
    sheet = training.sign_in_sheet_xlsx(engine, leader, sid, "zh_CN")
    monkeypatch.setenv(uploads.MAX_ROWS_ENV, "2")
    err = refusal(lambda: training.marks_from_sign_in_sheet(engine, leader, sid, sheet))
    assert err.msgid == uploads.TOO_MANY_ROWS and err.params["count"] == "3"
    monkeypatch.setenv(uploads.MAX_ROWS_ENV, "3")
    assert len(training.marks_from_sign_in_sheet(engine, leader, sid, sheet)) == 3


# ---------------------------------------------------------------- many workbooks (the district's collection)


def _book(**sheets):
    import pandas as pd

    from services.core.exports import frames_to_xlsx

    return frames_to_xlsx({name: pd.DataFrame(rows[1:], columns=rows[0]) for name, rows in sheets.items()})


def test_read_workbooks_gives_every_sheet_of_each_file_or_its_refusal():
    first = _book(甲=[["a", "b"], ["x", 1], ["", ""], ["y", 2]], 乙=[["c"], ["z"]])
    second = _book(丙=[["d"], [3]])
    results = uploads.read_workbooks([("1.xlsx", first), ("2.txt", b"plain text"), ("3.xlsx", second)], keep=100)
    assert list(results[0]) == ["甲", "乙"]
    assert results[0]["甲"][0] == ["a", "b"] and len(results[0]["甲"]) == 4  # the blank row kept
    assert isinstance(results[1], ValidationError) and results[1].params["filename"] == "2.txt"
    assert results[2]["丙"] == [["d"], [3.0]]
    too_long = uploads.read_workbooks([("1.xlsx", first)], keep=2)[0]
    assert isinstance(too_long, ValidationError) and too_long.msgid == uploads.TOO_MANY_ROWS


def test_a_file_that_ends_the_batch_reader_is_refused_alone(monkeypatch):
    """When the batch's child does not finish, each file is read again on its own: only the
    file beyond the limits is refused."""
    real = uploads._start_reader
    bad = _book(甲=[["boom"], [1]])
    good = _book(乙=[["ok"], [2]])

    def start(data, request):
        if bad in data:  # stands for a file that takes the child beyond its limits
            return subprocess.CompletedProcess([], -9, b"", b"killed")
        return real(data, request)

    monkeypatch.setattr(uploads, "_start_reader", start)
    results = uploads.read_workbooks([("good.xlsx", good), ("bad.xlsx", bad), ("good2.xlsx", good)], keep=10)
    assert results[0]["乙"] == [["ok"], [2.0]] and results[2]["乙"] == [["ok"], [2.0]]
    assert isinstance(results[1], ValidationError) and results[1].msgid == uploads.BEYOND_LIMITS
