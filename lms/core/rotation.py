"""Key rotation: re-encrypt every encrypted column and every sealed media file with the active key.

The columns are found by walking the mapped models (any column whose type is an EncryptedText,
EncryptedDate included), so a model that adds an encrypted column is rotated without being listed
here. Rows go in batches by primary key, each batch committed, and files one at a time, so memory
stays bounded; values and files already under the active key are left alone, so an interrupted
rotation can simply be run again. The old key must stay in LMS_DATA_KEYS until it has finished.
"""
import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .crypto import FILE_MAGIC, Cipher
from .types import EncryptedText


@dataclass
class RotationReport:
    values: int = 0
    files: int = 0
    unreadable_files: int = 0


@dataclass
class EncryptedTable:
    name: str
    key: str            # the single-column primary key, for batches in key order
    columns: list[str]


def encrypted_columns(registry) -> list[EncryptedTable]:
    """Every table with encrypted columns, found by walking every mapped model."""
    _import_all_models()
    found: dict[str, EncryptedTable] = {}
    for mapper in registry.mappers:
        for column in mapper.columns:
            if not (isinstance(column, sa.Column) and isinstance(column.type, EncryptedText)):
                continue
            (key,) = column.table.primary_key.columns
            table = found.setdefault(column.table.name, EncryptedTable(column.table.name, key.name, []))
            if column.name not in table.columns:
                table.columns.append(column.name)
    return list(found.values())


def _import_all_models() -> None:
    # Every capability keeps its tables in lms/<package>/models.py; import them all so that
    # the registry is complete even when no view has been loaded (e.g. from a script).
    # The package is found by its folder, not by importing it: lms imports this module (via cli).
    package = __name__.split(".")[0]
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent.parent)]):
        if module.ispkg and importlib.util.find_spec(f"{package}.{module.name}.models") is not None:
            importlib.import_module(f"{package}.{module.name}.models")


def token_kid(token: str) -> str:
    return token.partition("$")[0]


def file_kid(sealed: bytes) -> str | None:
    """The key id a sealed file names in its header, or None for a file that is not sealed."""
    if not sealed.startswith(FILE_MAGIC):
        return None
    start = len(FILE_MAGIC) + 1
    return sealed[start:start + sealed[len(FILE_MAGIC)]].decode()


def rotate_table(session, cipher: Cipher, table: EncryptedTable, batch_size: int) -> int:
    """Re-encrypt one table's encrypted columns batch by batch; returns how many values changed."""
    # A lightweight table with plain Text columns reads and writes the ciphertext itself
    # (the mapped columns' types would decrypt on read and encrypt again on write).
    raw = sa.table(table.name, sa.column(table.key), *(sa.column(name, sa.Text()) for name in table.columns))
    key = raw.c[table.key]
    write = raw.update().where(key == sa.bindparam("b_key")).values(
        {name: sa.bindparam(f"b_{name}", type_=sa.Text()) for name in table.columns})
    changed, last_key = 0, None
    while True:
        query = sa.select(raw).order_by(key).limit(batch_size)
        rows = session.execute(query if last_key is None else query.where(key > last_key)).mappings().all()
        if not rows:
            return changed
        updates = []
        for row in rows:
            values = {name: _rekeyed(cipher, row[name]) for name in table.columns}
            stale = sum(values[name] != row[name] for name in table.columns)
            if stale:
                updates.append({"b_key": row[table.key], **{f"b_{n}": v for n, v in values.items()}})
                changed += stale
        if updates:
            session.execute(write, updates)
        session.commit()
        last_key = rows[-1][table.key]


def _rekeyed(cipher: Cipher, token: str | None) -> str | None:
    if token is None or token_kid(token) == cipher.active_kid:
        return token
    return cipher.encrypt_text(cipher.decrypt_text(token))


def rotate_files(root: Path, cipher: Cipher) -> tuple[int, int]:
    """Re-seal every file under ``root`` that names another key; returns (re-sealed, unreadable)."""
    resealed = unreadable = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".tmp"):
                continue  # an upload being written, or a rotation interrupted before its rename
            path = Path(folder) / name
            sealed = path.read_bytes()
            kid = file_kid(sealed)
            if kid is None:
                unreadable += 1
            elif kid != cipher.active_kid:
                _replace_atomically(path, cipher.seal_file(cipher.open_file(sealed)))
                resealed += 1
    return resealed, unreadable


def _replace_atomically(path: Path, data: bytes) -> None:
    # A crash leaves either the old file (still readable with the old key) or the new one.
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def rotate_everything(session, cipher: Cipher, registry, uploads: Path, batch_size: int = 500) -> RotationReport:
    report = RotationReport()
    for table in encrypted_columns(registry):
        report.values += rotate_table(session, cipher, table, batch_size)
    if uploads.exists():
        report.files, report.unreadable_files = rotate_files(uploads, cipher)
    return report
