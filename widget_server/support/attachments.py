"""Attachments of service issues: what is accepted, judged by the bytes alone (#23 item 2).

A file's declared type and its name's extension are ignored: a PDF starts with `%PDF-`, a PNG
and a JPEG with their signatures, and plain text is valid UTF-8 without NUL; anything else (an
HTML page named `.pdf`, an SVG, a program) is refused. The name is kept only as a label,
sanitised (`safe_name`); the file is always served as a download with the type found here.
Limits come from the configuration: `ISSUE_ATTACHMENT_MAX_BYTES` each (5 MB) and
`ISSUE_ATTACHMENT_MAX_FILES` a message (3).
"""
import math
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal

from ..core.domain import DomainError
from ..core.i18n import gettext as _

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
FIELD = "attachments"
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
TEXT = ("text/plain; charset=utf-8", ".txt")


@dataclass(frozen=True)
class Upload:
    """One checked file: its sanitised name, the type its bytes show, the bytes."""
    filename: str
    content_type: str
    data: bytes


def max_bytes() -> int:
    return current_app.config.get("ISSUE_ATTACHMENT_MAX_BYTES", MAX_BYTES)


def max_files() -> int:
    return current_app.config.get("ISSUE_ATTACHMENT_MAX_FILES", MAX_FILES)


def request_allowance() -> int:
    """The largest request body a form with attachments may send: every file at its limit,
    and room for the text (the app's own limit is smaller)."""
    return max_files() * max_bytes() + 512 * 1024


def read_uploads(storages) -> list[tuple[str, bytes]]:
    """(name, bytes) of a form's file inputs (Werkzeug's `FileStorage`s); an input left empty
    is none. The request's body limit bounds what is read."""
    return [(f.filename or "", f.read()) for f in storages if f.filename or f.content_length]


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an accepted file, from its bytes; None when refused."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return TEXT


def safe_name(name: str, extension: str) -> str:
    """A name fit for a label and a Content-Disposition header: the last path part, letters,
    digits, spaces and `._-` only, at most 100 characters, ending in the extension its bytes
    earned (a text file named `page.html` becomes `page.html.txt`)."""
    name = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[^\w. -]+", "_", name, flags=re.ASCII).strip(" ._") or "attachment"
    stem = name[:-len(extension)] if extension and name.lower().endswith(extension) else name
    if extension == ".jpg" and stem.lower().endswith(".jpeg"):
        stem = stem[:-5]
    return f"{stem[:100 - len(extension)]}{extension}"


def _megabytes(size: int, *, up: bool = False) -> str:
    """A size in MB, one decimal unless whole: "5.1", "5" (the customer's number format);
    `up` rounds up, so a file just over the limit never reads as the limit ("5.0 MB; at most
    5 MB")."""
    megabytes = size / (1024 * 1024)
    if up:
        megabytes = math.ceil(megabytes * 10) / 10
    return format_decimal(megabytes, format="#,##0" if megabytes.is_integer() else "#,##0.0")


def check(files: list[tuple[str, bytes]]) -> list[Upload]:
    """The files (name, bytes) as uploads, or a DomainError on the attachments field that says
    which file is refused and why. Files without a name and bytes (an empty input) are skipped."""
    files = [(name, data) for name, data in files if name or data]
    if len(files) > max_files():
        raise DomainError(_("Attach at most %(count)s files.", count=max_files()), FIELD,
                          code="too_many_files")
    uploads = []
    for name, data in files:
        label = safe_name(name, "") or "attachment"
        if not data:
            raise DomainError(_("%(name)s is empty.", name=label), FIELD,
                              code="empty_file")
        if len(data) > max_bytes():
            raise DomainError(_(
                "%(name)s is %(size)s MB; each file may be at most %(limit)s MB.", name=label,
                size=_megabytes(len(data), up=True), limit=_megabytes(max_bytes())), FIELD,
                code="file_too_large")
        found = sniff(data)
        if found is None:
            raise DomainError(_(
                "%(name)s is not a PDF, PNG, JPEG or plain text file.", name=label), FIELD,
                              code="file_type_refused")
        content_type, extension = found
        uploads.append(Upload(safe_name(name, extension), content_type, data))
    return uploads
