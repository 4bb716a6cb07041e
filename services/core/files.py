"""Uploaded files kept as evidence or handouts (leaflet and case PDFs): what is
accepted, and the name they are stored and handed back under."""

from __future__ import annotations

import re

from services.core.errors import ValidationError
from services.core.i18n import N_

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def check_pdf(data: bytes) -> None:
    """Refuse anything that is not plausibly a PDF, or is too large."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValidationError(N_("The file is empty."), field="attachment")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            N_("The file is {size} MB; attachments can be at most {max} MB."),
            field="attachment",
            size=f"{len(data) / 1024 / 1024:.1f}",
            max=MAX_ATTACHMENT_BYTES // (1024 * 1024),
        )
    if not bytes(data[:1024]).lstrip(b"\x00\t\n\r\x0c ").startswith(b"%PDF-") or b"%%EOF" not in bytes(data[-2048:]):
        raise ValidationError(N_("This file is not a PDF; only PDF files can be attached."), field="attachment")


def safe_pdf_filename(name: str | None, fallback: str) -> str:
    """`name` without folders or characters file systems refuse, ending in .pdf."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .") or fallback
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base[-200:]
