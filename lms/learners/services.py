"""Learner accounts, profiles and materials. Registration as a whole, with the face enrolment from
the 1-inch photo, is lms.registration, above this package and lms.proctor."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..accounts.models import User
from ..accounts.services import set_password
from ..audit.services import record
from ..core.clock import china_date
from ..core.context import Actor
from ..core.crypto import cipher
from ..core.errors import RuleViolation
from ..core.iddocs import DocumentFacts, age_on
from ..core.roles import LEARNER
from ..extensions import db
from ..files.models import StoredFile
from ..files.storage import CheckedImage, discard_file, store_image
from .models import Learner

MINIMUM_AGE, MAXIMUM_AGE = 16, 100  # years, on the day of registration (China time)


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


def age_refusal(born: date | None, today: date) -> str | None:
    """Why a person born on ``born`` may not register as a learner today, or None."""
    if born is None:
        return "birth_date_missing"
    if not MINIMUM_AGE <= age_on(born, today) <= MAXIMUM_AGE:
        return "learner_age"
    return None


def _check_age(profile: Profile, now: datetime) -> None:
    refusal = age_refusal(profile.document.birth_date or profile.birth_date, china_date(now))
    if refusal is not None:
        raise RuleViolation(refusal, minimum=MINIMUM_AGE, maximum=MAXIMUM_AGE)


def new_learner_account(profile: Profile, password: str, now: datetime, actor: Actor) -> User:
    """The account of a new learner, not yet added: the age rule holds for every caller (RuleViolation).

    A number already registered raises DuplicateRegistration after the same password hashing (the
    slow part), and is logged under the existing learner: the caller answers as for a new number."""
    _check_age(profile, now)
    user = User(role=LEARNER, created_at=now)
    set_password(user, password)
    existing = learner_with_id_number(profile.document.number)
    if existing is not None:
        record(actor, "register", now, target=f"learner:{existing.id}", result="failure",
               detail="already_registered", region_code=existing.region_code)
        db.session.commit()
        raise DuplicateRegistration()
    return user


def add_learner(user: User, profile: Profile, images: dict[str, CheckedImage], now: datetime, actor: Actor,
                stored: list[StoredFile]) -> Learner:
    """Add (not commit) the learner's profile and encrypted materials; the stored files are appended to
    ``stored`` (files_kept_only_if_committed). lms.registration commits it with the face enrolment.
    The age rule again, for a caller that made the account itself."""
    _check_age(profile, now)
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
    record(actor, "register", now, user=user, target=f"learner:{learner.id}", region_code=profile.region_code)
    for kind in images:
        record(actor, "upload", now, user=user, target=f"learner:{learner.id}", detail=kind,
               region_code=profile.region_code)
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
