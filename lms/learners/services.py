"""Learner registration, materials and who may see them."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..accounts.models import User
from ..core.roles import LEARNER
from ..accounts.services import set_password
from ..audit.services import record
from ..core.context import Actor
from ..core.crypto import cipher
from ..core.iddocs import DocumentFacts
from ..extensions import db
from ..files.models import StoredFile
from ..files.storage import CheckedImage, discard_file, files_kept_only_if_committed, store_image
from ..proctor import services as proctor
from .models import EDUCATION, ID_DOCUMENT, PHOTO, RECOMMENDATION, Learner


class DuplicateRegistration(ValueError):
    pass


@dataclass(frozen=True)
class Profile:
    name: str
    id_type: str
    document: DocumentFacts
    birth_date: date | None
    gender: str | None
    work_unit: str
    unit_category: str
    position: str
    region_code: str
    education_level: str


def id_number_hash(number: str) -> str:
    return cipher().lookup_hash(number)


def learner_with_id_number(number: str) -> Learner | None:
    return db.session.scalar(select(Learner).where(Learner.id_number_hash == id_number_hash(number)))


def register_learner(profile: Profile, password: str, images: dict[str, CheckedImage],
                     now: datetime, actor: Actor, enrolment=None) -> Learner:
    """Create the learner's account, profile, encrypted materials and face enrolment (from the
    1-inch photo) in one transaction. ``enrolment`` is the photo's assessment when the caller
    already made it; a photo that cannot be an enrolment photo is refused before anything is written.

    A number already registered raises DuplicateRegistration after the same password hashing (the
    slow part), and is logged under the existing learner: the caller answers as for a new number."""
    user = User(role=LEARNER, created_at=now)
    set_password(user, password)
    existing = learner_with_id_number(profile.document.number)
    if existing is not None:
        record(actor, "register", now, target=f"learner:{existing.id}", result="failure",
               detail="already_registered", region_code=existing.region_code)
        db.session.commit()
        raise DuplicateRegistration()
    if PHOTO in images and enrolment is None:
        enrolment = proctor.assess_photo(images[PHOTO].data)
    with files_kept_only_if_committed() as stored:
        learner = Learner(
            user=user, name=profile.name, id_type=profile.id_type,
            id_number=profile.document.number, id_number_hash=id_number_hash(profile.document.number),
            birth_date=profile.document.birth_date or profile.birth_date,
            gender=profile.document.gender or profile.gender,
            work_unit=profile.work_unit, unit_category=profile.unit_category, position=profile.position,
            region_code=profile.region_code, education_level=profile.education_level, created_at=now,
        )
        db.session.add_all([user, learner])
        db.session.flush()
        for kind, image in images.items():
            record_ = store_image(image, kind, user.id)
            stored.append(record_)
            db.session.flush()
            setattr(learner, f"{kind}_file_id", record_.id)
            if kind == PHOTO:
                proctor.add_enrolment(learner, record_, enrolment, now, actor)
        record(actor, "register", now, user=user, target=f"learner:{learner.id}",
               region_code=profile.region_code)
        for kind in images:
            record(actor, "upload", now, user=user, target=f"learner:{learner.id}", detail=kind,
                   region_code=profile.region_code)
        db.session.commit()
    return learner


def replace_material(learner: Learner, kind: str, image: CheckedImage, now: datetime, actor: Actor) -> None:
    """Swap one of the learner's materials; the old file is removed after commit."""
    old_id = learner.file_id(kind)
    new_record = store_image(image, kind, learner.user_id)
    try:
        db.session.flush()
        setattr(learner, f"{kind}_file_id", new_record.id)
        record(actor, "upload", now, target=f"learner:{learner.id}", detail=kind,
               region_code=learner.region_code)
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard_file(new_record)
        raise
    if old_id is not None:
        old = db.session.get(StoredFile, old_id)
        if old is not None:
            discard_file(old)
            db.session.delete(old)
            db.session.commit()


def missing_materials(learner: Learner, education_required: bool) -> list[str]:
    needed = [PHOTO, ID_DOCUMENT, RECOMMENDATION] + ([EDUCATION] if education_required else [])
    return [kind for kind in needed if learner.file_id(kind) is None]
