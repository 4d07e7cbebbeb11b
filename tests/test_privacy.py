"""Personal data at rest: the raw database and the media folder hold no plaintext."""
from pathlib import Path

from sqlalchemy import text

from lms.core.clock import utcnow
from lms.institutions.services import apply_to_class

from .conftest import face_bytes


def _raw_database_bytes(app, db) -> bytes:
    """Every row of every table as the database returns it, plus the SQLite file itself."""
    chunks = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                chunks.append(repr(tuple(row)).encode("utf-8"))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint")
        chunks.append(Path(url.removeprefix("sqlite:///")).read_bytes())
    return b"\n".join(chunks)


def test_no_plaintext_identity_or_images_at_rest(app, db, learner, open_class, actor, staff_client):
    apply_to_class(learner, open_class, "T440604197403121235", utcnow(), actor)
    staff_client.get(f"/learners/{learner.id}/materials/photo")  # viewing is logged too
    raw = _raw_database_bytes(app, db)
    number = learner.id_number
    for secret in (number, number.lower(), learner.name, "王建国"):
        assert secret.encode("utf-8") not in raw, secret
        assert secret.encode("utf-16-le") not in raw
    # The masked form may appear (for example in the operation log); the whole number never does.
    media = b"".join(p.read_bytes() for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file())
    assert media and number.encode() not in media
    photo = face_bytes()
    for probe in (photo[:64], photo[2000:2064], b"JFIF", b"\x89PNG"):
        assert probe not in media and probe not in raw
    assert len(list(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg"))) == 0


def test_id_number_is_found_through_the_keyed_hash(db, learner):
    from lms.accounts.services import find_user_by_login
    assert find_user_by_login(learner.id_number).id == learner.user_id
    row = db.session.execute(text("SELECT id_number, id_number_hash FROM learners")).one()
    assert row.id_number.startswith("t1$") and len(row.id_number_hash) == 64
