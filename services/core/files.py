"""Uploaded files kept as evidence or handouts (leaflet and case PDFs): what is
accepted, and the name they are stored and handed back under."""

from __future__ import annotations

import io
import re

from services.core import uploads
from services.core.errors import ValidationError
from services.core.i18n import N_

# The limit lives with every other upload limit (services.core.uploads); named here for the pages.
MAX_ATTACHMENT_BYTES = uploads.MAX_ATTACHMENT_BYTES

NOT_A_PDF = N_("This file is not a PDF; only PDF files can be attached.")
PDF_UNREADABLE = N_(
    "This PDF cannot be opened (it is damaged or protected by a password). Save or print it again as a PDF "
    "and attach that file."
)
PDF_TOO_MANY_PAGES = N_("The PDF has {pages} pages; an attachment can have at most {max}.")


def check_pdf(data: bytes) -> None:
    """Refuse anything that is not a PDF (parsed with pypdf: its cross-reference
    table, its catalogue and its pages, not only its first and last bytes), an
    empty file, one over MAX_ATTACHMENT_BYTES or with more than MAX_PDF_PAGES pages."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValidationError(N_("The file is empty."), field="attachment")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            N_("The file is {size} MB; attachments can be at most {max} MB."),
            field="attachment",
            size=f"{len(data) / 1024 / 1024:.1f}",
            max=uploads.MAX_ATTACHMENT_MB,
        )
    if not bytes(data[:1024]).lstrip(b"\x00\t\n\r\x0c ").startswith(b"%PDF-") or b"%%EOF" not in bytes(data[-2048:]):
        raise ValidationError(NOT_A_PDF, field="attachment")
    pages = _page_count(bytes(data))
    if pages > uploads.MAX_PDF_PAGES:
        raise ValidationError(PDF_TOO_MANY_PAGES, field="attachment", pages=pages, max=uploads.MAX_PDF_PAGES)


def _page_count(data: bytes) -> int:
    """The pages of a PDF, as pypdf reads them; a ValidationError when it cannot."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValidationError(PDF_UNREADABLE, field="attachment")
        pages = len(reader.pages)
        if pages:
            _ = reader.pages[0].mediabox  # a page is a page only if it has a size
    except ValidationError:
        raise
    except FileNotDecryptedError:
        raise ValidationError(PDF_UNREADABLE, field="attachment") from None
    except PdfReadError:
        raise ValidationError(NOT_A_PDF, field="attachment") from None
    except Exception:  # pypdf raises what the damage makes it meet (KeyError, ValueError, RecursionError...)
        raise ValidationError(PDF_UNREADABLE, field="attachment") from None
    if not pages:
        raise ValidationError(NOT_A_PDF, field="attachment")
    return pages


def _file_name_part(name: str | None) -> str:
    """`name` without folders or characters file systems refuse."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    return re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .")


def safe_file_stem(name: str | None, fallback: str = "") -> str:
    """User text (a title) as part of a download's file name, at most 80 characters."""
    return _file_name_part(name)[:80] or fallback


def safe_pdf_filename(name: str | None, fallback: str) -> str:
    """`name` without folders or characters file systems refuse, ending in .pdf."""
    base = _file_name_part(name) or fallback
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base[-200:]
