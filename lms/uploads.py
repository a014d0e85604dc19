"""Uploaded files: checking them (the type comes from the content, never from the name alone),
storing them in the database, and serving them back as downloads.

Used by assignment submissions and practice-log attachments: one set of rules.
"""
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from flask import send_file
from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import mapped_column

from lms.clock import utcnow

MAX_FILES = 5
MAX_FILE_SIZE = 10 * 1024 * 1024
# What a document may unpack to; a zip bomb claims far more.
MAX_UNPACKED_SIZE = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100

ALLOWED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
EXTENSION_ALIASES = {"jpeg": "jpg"}
ZIP_BASED = {"docx", "xlsx", "odt", "ods"}


class UploadError(ValueError):
    """The file is refused; `code` names the reason so that views can show a translated message."""

    def __init__(self, code, filename):
        super().__init__(f"{filename}: {code}")
        self.code = code
        self.filename = filename


@dataclass
class CheckedFile:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self):
        return len(self.data)

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()


def safe_filename(name):
    """The last path component, without control characters, at most 255 characters."""
    name = PurePath((name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name.strip()[-255:] or "file"


def check_upload(filename, data):
    """Return a CheckedFile or raise UploadError('empty'|'too_large'|'type'|'mismatch'|'archive')."""
    filename = safe_filename(filename)
    if not data:
        raise UploadError("empty", filename)
    if len(data) > MAX_FILE_SIZE:
        raise UploadError("too_large", filename)
    extension = PurePath(filename).suffix.lower().lstrip(".")
    extension = EXTENSION_ALIASES.get(extension, extension)
    if extension not in ALLOWED:
        raise UploadError("type", filename)
    kind = filetype.guess(data)
    detected = EXTENSION_ALIASES.get(kind.extension, kind.extension) if kind else None
    if detected != extension:
        raise UploadError("mismatch", filename)
    if extension in ZIP_BASED:
        _check_archive(data, filename)
    return CheckedFile(filename=filename, content_type=ALLOWED[extension], data=data)


def _check_archive(data, filename):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise UploadError("mismatch", filename) from None
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_SIZE:
        raise UploadError("archive", filename)
    for entry in entries:
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_COMPRESSION_RATIO \
                and entry.file_size > 1024 * 1024:
            raise UploadError("archive", filename)


class StoredFile:
    """Columns of an uploaded file kept in the database, shared by assignment files and practice photos."""

    filename = mapped_column(String(255), nullable=False)
    content_type = mapped_column(String(120), nullable=False)
    size = mapped_column(Integer, nullable=False)
    sha256 = mapped_column(String(64), nullable=False)
    data = mapped_column(LargeBinary, nullable=False, deferred=True)
    uploaded_at = mapped_column(DateTime, nullable=False, default=utcnow)

    @classmethod
    def from_checked(cls, checked):
        return cls(filename=checked.filename, content_type=checked.content_type, size=checked.size,
                   sha256=checked.sha256, data=checked.data)


def download_response(data, mimetype, filename, inline=False):
    """Bytes or text sent as a file named filename. Werkzeug writes the name as an ASCII `filename=` plus
    RFC 5987's `filename*=UTF-8''…`: a raw Cyrillic name in the header made the server answer 500."""
    if isinstance(data, str):
        data = data.encode()
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=filename,
                         etag=False, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attachment_response(stored, data=None):
    """Serve a stored file (or `data` in its stead, such as a picture's small copy) as a download, never displayed
    inline: an upload cannot run in our pages."""
    response = download_response(stored.data if data is None else data, stored.content_type, stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
