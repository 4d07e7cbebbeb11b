"""Validate uploaded images and keep them encrypted on disk."""
import io
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from ..core.crypto import cipher
from ..core.errors import RuleViolation
from ..extensions import db
from .models import StoredFile

ALLOWED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
MAX_SIDE = 8000
# Pillow refuses to open an image of more than twice this many pixels anywhere in the app (a
# decompression bomb: a small PNG of 13,000 x 13,000 px decodes to 500 MB). Its default is 89 MP.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE


class UploadRejected(RuleViolation):
    """An upload that is not an acceptable image."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int


def check_image(data: bytes, max_bytes: int, min_side: int = 100, max_side: int = MAX_SIDE) -> CheckedImage:
    """Accept only complete JPEG/PNG images within the size limits.

    The format comes from the bytes themselves, never from the file name or
    the browser's content type, so a renamed executable or PDF is refused.
    Format and dimensions are read from the header and refused before a single
    pixel is decoded.
    """
    if not data:
        raise UploadRejected("empty")
    if len(data) > max_bytes:
        raise UploadRejected("too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            fmt, (width, height) = probe.format, probe.size
            if fmt not in ALLOWED_IMAGE_FORMATS:
                raise UploadRejected("type")
            if min(width, height) < min_side or max(width, height) > max_side:
                raise UploadRejected("dimensions")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decoding every pixel catches truncated files
    except UploadRejected:
        raise
    except Image.DecompressionBombError:
        raise UploadRejected("dimensions") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRejected("corrupt") from None
    return CheckedImage(data, ALLOWED_IMAGE_FORMATS[fmt], width, height)


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def _path_for(storage_name: str) -> Path:
    return media_root() / "uploads" / storage_name[:2] / storage_name


def store_image(image: CheckedImage, kind: str, owner_user_id: int | None) -> StoredFile:
    """Encrypt and write the image, then add (not commit) its record."""
    storage_name = uuid.uuid4().hex
    path = _path_for(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cipher().seal_file(image.data))
    os.replace(tmp, path)
    record = StoredFile(
        storage_name=storage_name, kind=kind, content_type=image.content_type,
        size=len(image.data), width=image.width, height=image.height,
        owner_user_id=owner_user_id,
    )
    db.session.add(record)
    return record


def read_file(record: StoredFile) -> bytes:
    return cipher().open_file(_path_for(record.storage_name).read_bytes())


def discard_file(record: StoredFile) -> None:
    """Remove the bytes of a file whose record is being rolled back or replaced."""
    try:
        _path_for(record.storage_name).unlink()
    except FileNotFoundError:
        pass


@contextmanager
def files_kept_only_if_committed():
    """Yields a list for the files the block stores; if the block fails, the transaction is rolled back
    and those files' bytes are removed, so that no file outlives the records that would point to it."""
    stored: list[StoredFile] = []
    try:
        yield stored
    except Exception:
        db.session.rollback()
        for record in stored:
            discard_file(record)
        raise
