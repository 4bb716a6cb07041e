"""PDF attachments are parsed, not judged by their first and last bytes (services/core/files.py)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter

from services.core import files, uploads
from services.core.errors import ValidationError
from services.core.exports import printable_pdf
from tests.factories import PDF, pdf_bytes


def refused(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        files.check_pdf(data)
    return info.value


def written_by_pypdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        PDF,
        pdf_bytes(3, version="1.7"),
        written_by_pypdf(),
        printable_pdf("签到表", "签到表", ["2026-03-01"], ["工号", "姓名"], [20, 30], [["T1", "张三"]]),
    ],
    ids=["by hand", "three pages", "pypdf", "the app's own (reportlab)"],
)
def test_real_pdfs_are_accepted(data):
    files.check_pdf(data)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n",
        b"%PDF-1.7\n<!DOCTYPE html><html><body><p>hello</p></body></html>\nstartxref\n9\n%%EOF",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",  # a header, a trailer, no document
        b"%PDF-1.4\n" + b"A" * 100_000 + b"\n%%EOF",
    ],
    ids=["html body", "html with a startxref", "no catalogue", "filler"],
)
def test_a_file_that_only_starts_like_a_pdf_is_refused(data):
    err = refused(data)
    assert err.msgid == files.NOT_A_PDF
    assert err.translated("zh_CN") == "该文件不是 PDF 文件，只能上传 PDF 附件。"


def test_a_pdf_with_a_password_is_refused_with_its_reason():
    err = refused(encrypted())
    assert err.msgid == files.PDF_UNREADABLE
    assert "密码" in err.translated("zh_CN")


def test_a_pdf_over_the_page_limit_is_refused():
    files.check_pdf(pdf_bytes(uploads.MAX_PDF_PAGES))
    err = refused(pdf_bytes(uploads.MAX_PDF_PAGES + 1))
    assert err.msgid == files.PDF_TOO_MANY_PAGES
    assert err.translated("zh_CN") == f"该 PDF 有 {uploads.MAX_PDF_PAGES + 1} 页，附件最多 {uploads.MAX_PDF_PAGES} 页。"


def test_the_size_limit_is_the_uploads_one():
    assert files.MAX_ATTACHMENT_BYTES == uploads.MAX_ATTACHMENT_BYTES == uploads.MAX_ATTACHMENT_MB * 1024 * 1024
    err = refused(PDF + b" " * uploads.MAX_ATTACHMENT_BYTES)
    assert "10 MB" in err.translated("zh_CN")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("学习《人口与计划生育法》", "学习《人口与计划生育法》"),
        ("../../etc/passwd", "passwd"),
        ('a:b*c?"d"<e>|f', "a_b_c__d__e__f"),
        ("  .hidden. ", "hidden"),
        ("", "fallback"),
        ("长" * 100, "长" * 80),
    ],
)
def test_user_text_in_a_download_name_cannot_leave_the_folder_or_break_it(name, expected):
    assert files.safe_file_stem(name, "fallback") == expected


def test_a_pdf_file_name_keeps_its_extension():
    assert files.safe_pdf_filename("C:\\docs\\告知书", "x") == "告知书.pdf"
    assert files.safe_pdf_filename(None, "附件") == "附件.pdf"
